package io.aigate.pipeline;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The raw query string, read the one way every layer must agree on: names are percent-decoded and compared without
 * case, so {@code Subscription-Key} and {@code subscription%2Dkey} are the same parameter to the step that reads a key
 * and to the gateway that strips it.
 */
public final class QueryString {

    private QueryString() {}

    /** The decoded value of the first parameter with this name; "" when it has no value; null when absent. */
    public static String first(String query, String name) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String decoded = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (decoded != null && decoded.equalsIgnoreCase(name)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    /**
     * The query read once for the gateway: what is forwarded (without the {@code dropped} parameters; the rest byte
     * for byte) and the first of the {@code deciding} parameters (lower case) that it carries more than once, or null.
     * A backend may take the last where aigate took the first, so a parameter aigate decides on must appear once or
     * not at all. A parameter whose name cannot be decoded cannot be told apart from a dropped one, so it is dropped.
     */
    public record Reading(String forwarded, String repeated) {}

    public static Reading read(String query, Set<String> dropped, Set<String> deciding) {
        if (query == null || query.isEmpty()) {
            return new Reading(query, null);
        }
        StringBuilder out = dropped.isEmpty() ? null : new StringBuilder(query.length());
        Set<String> seen = new java.util.HashSet<>(4);
        String repeated = null;
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String decoded = decode(eq < 0 ? pair : pair.substring(0, eq));
            String name = decoded == null ? null : decoded.toLowerCase(Locale.ROOT);
            if (repeated == null && name != null && deciding.contains(name) && !seen.add(name)) {
                repeated = name;
            }
            if (out != null && name != null && !dropped.contains(name)) {
                if (out.length() > 0) {
                    out.append('&');
                }
                out.append(pair);
            }
        }
        return new Reading(out == null ? query : out.toString(), repeated);
    }

    /** The query without the named parameters (lower-case names), as {@link #read} forwards it. */
    public static String without(String query, Set<String> dropped) {
        return read(query, dropped, Set.of()).forwarded();
    }

    private static String decode(String raw) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }
}
