package io.aigate.config;

/**
 * APIM's {@code counter-key}, read once the one way the start-up check and the token limit use it: whose budget a
 * request spends.
 *
 * @param header the header's name, for {@link Kind#HEADER}; null otherwise
 */
public record CounterKey(Kind kind, String header) {

    public enum Kind {
        SUBSCRIPTION,
        CLIENT_APP,
        HEADER
    }

    /** @throws IllegalArgumentException with the sentence start-up stops with (after "aigate.token-limit.") */
    public static CounterKey parse(String text) {
        String key = text == null ? "" : text.trim();
        if (key.regionMatches(true, 0, "header:", 0, 7)) {
            String header = key.substring(7).trim();
            if (header.isEmpty()) {
                throw new IllegalArgumentException(
                        "counter-key=header: names no header: write it as header:<name>, e.g. header:x-team.");
            }
            return new CounterKey(Kind.HEADER, header);
        }
        return switch (key) {
            case "subscription" -> new CounterKey(Kind.SUBSCRIPTION, null);
            case "client-app" -> new CounterKey(Kind.CLIENT_APP, null);
            default ->
                throw new IllegalArgumentException(
                        "counter-key is '" + key + "': use subscription, client-app or header:<name>.");
        };
    }
}
