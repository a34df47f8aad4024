package io.aigate.tokens;

/**
 * What the backend used for one request, as far as aigate can tell: {@code llm-emit-token-metric}'s outbound half
 * decides it, {@code llm-token-limit}'s charges it. The rule behind every value: nothing the backend may have served
 * is given back.
 */
public record Consumption(Kind kind, long tokens) {

    /** Written by {@code llm-emit-token-metric} at the request's end, read by {@code llm-token-limit} after it. */
    static final io.aigate.pipeline.RequestContext.Part<Consumption> PART =
            io.aigate.pipeline.RequestContext.Part.declare("tokens-used");

    public enum Kind {
        /** The backend never had the request, or refused it (4xx): nothing was generated. */
        NOTHING,
        /** The backend may have generated and billed tokens, but how many cannot be read. */
        UNKNOWN,
        /** The answer reported its usage. */
        EXACTLY,
        /**
         * A stream that reported no usage (cut, or its usage unreadable), counted from what passed: a floor, not the
         * whole; it is charged as at least the reservation.
         */
        AT_LEAST
    }

    public static final Consumption NOTHING = new Consumption(Kind.NOTHING, 0);
    public static final Consumption UNKNOWN = new Consumption(Kind.UNKNOWN, 0);

    public static Consumption exactly(long tokens) {
        return new Consumption(Kind.EXACTLY, tokens);
    }

    public static Consumption atLeast(long tokens) {
        return new Consumption(Kind.AT_LEAST, tokens);
    }

    /** The total to report in {@code tokens-consumed-header-name}, or null when it is not known exactly. */
    public String exactTotal() {
        return kind == Kind.EXACTLY ? Long.toString(tokens) : null;
    }
}
