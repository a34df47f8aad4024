package io.aigate.pipeline;

import java.util.Map;

/**
 * What a step decided: let the request go on, or answer the caller now with APIM's error body
 * {@code {"statusCode":N,"message":"…"}}. A step that refuses never lets the request reach a backend.
 */
public final class Outcome {

    private static final Outcome CONTINUE = new Outcome(0, null, Map.of(), null);

    private final int status;
    private final String message;
    private final Map<String, String> headers;
    private final String reason;

    private Outcome(int status, String message, Map<String, String> headers, String reason) {
        this.status = status;
        this.message = message;
        this.headers = headers;
        this.reason = reason;
    }

    public static Outcome proceed() {
        return CONTINUE;
    }

    /**
     * @param reason a short machine word for logs and metrics (never sent to the caller), e.g. {@code no_token}
     */
    public static Outcome respond(int status, String message, String reason) {
        return new Outcome(status, message, Map.of(), reason);
    }

    public static Outcome respond(int status, String message, String reason, Map<String, String> headers) {
        return new Outcome(status, message, Map.copyOf(headers), reason);
    }

    public boolean proceeds() {
        return this == CONTINUE;
    }

    public int status() {
        return status;
    }

    public String message() {
        return message;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return proceeds() ? "continue" : "respond " + status + " (" + reason + ")";
    }
}
