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

    private QueryString() {
    }

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
     * The first of {@code names} (lower case) that the query carries more than once, counting names as aigate reads
     * them (decoded, without case); null when none. A backend may take the last where aigate took the first, so a
     * parameter aigate decides on must appear once or not at all.
     */
    public static String repeated(String query, Set<String> names) {
        if (query == null || query.isEmpty()) {
            return null;
        }
        Set<String> seen = new java.util.HashSet<>();
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String decoded = decode(eq < 0 ? pair : pair.substring(0, eq));
            String name = decoded == null ? null : decoded.toLowerCase(Locale.ROOT);
            if (name != null && names.contains(name) && !seen.add(name)) {
                return name;
            }
        }
        return null;
    }

    /**
     * The query without the named parameters (lower-case names); the rest stays byte for byte. A parameter whose name
     * cannot be decoded cannot be told apart from a dropped one, so it is dropped too.
     */
    public static String without(String query, Set<String> dropped) {
        if (query == null || query.isEmpty() || dropped.isEmpty()) {
            return query;
        }
        StringBuilder out = new StringBuilder(query.length());
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (name != null && !dropped.contains(name.toLowerCase(Locale.ROOT))) {
                if (out.length() > 0) {
                    out.append('&');
                }
                out.append(pair);
            }
        }
        return out.toString();
    }

    private static String decode(String raw) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }
}
