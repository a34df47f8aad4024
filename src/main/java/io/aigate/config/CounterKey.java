package io.aigate.config;

/**
 * APIM's {@code counter-key}: whose budget a request spends. Read once, by its producer in {@link ConfigSections}; the
 * start-up check and the token limit are handed the same value.
 *
 * @param header the header's name, for {@link Kind#HEADER}; null otherwise
 */
public record CounterKey(Kind kind, String header) {

    public enum Kind {
        SUBSCRIPTION,
        CLIENT_APP,
        HEADER
    }

    /** @throws io.quarkus.runtime.configuration.ConfigurationException the sentence start-up stops with */
    public static CounterKey read(String text) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new io.quarkus.runtime.configuration.ConfigurationException("aigate.token-limit." + e.getMessage());
        }
    }

    private static CounterKey parse(String text) {
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
