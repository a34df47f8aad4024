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
        // most queries have nothing to leave out: they are forwarded as they came, and no copy is built. The copy
        // starts at the first pair left out, from everything before it, which was kept byte for byte.
        boolean filtering = !dropped.isEmpty();
        StringBuilder out = null;
        Set<String> seen = null;
        String repeated = null;
        int start = 0;
        while (start <= query.length()) {
            int amp = query.indexOf('&', start);
            int end = amp < 0 ? query.length() : amp;
            boolean keep = false;
            if (end > start) {
                int eq = query.indexOf('=', start);
                String decoded = decode(query.substring(start, eq < 0 || eq > end ? end : eq));
                String name = decoded == null ? null : decoded.toLowerCase(Locale.ROOT);
                if (repeated == null && name != null && deciding.contains(name)) {
                    if (seen == null) {
                        seen = new java.util.HashSet<>(4);
                    }
                    if (!seen.add(name)) {
                        repeated = name;
                    }
                }
                keep = name != null && !dropped.contains(name);
            }
            if (filtering && !keep && out == null) {
                out = new StringBuilder(query.length()).append(query, 0, Math.max(0, start - 1));
            } else if (keep && out != null) {
                if (out.length() > 0) {
                    out.append('&');
                }
                out.append(query, start, end);
            }
            start = end + 1;
        }
        return new Reading(out == null ? query : out.toString(), repeated);
    }

    /**
     * Whether the query carries a parameter not in {@code allowed} (lower-case names), or one whose name cannot be
     * decoded: where aigate forwards only what it judged, everything else is refused rather than passed on unread.
     */
    public static boolean hasOtherThan(String query, Set<String> allowed) {
        if (query == null || query.isEmpty()) {
            return false;
        }
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String decoded = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (decoded == null || !allowed.contains(decoded.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    /** The query without the named parameters (lower-case names), as {@link #read} forwards it. */
    public static String without(String query, Set<String> dropped) {
        return read(query, dropped, Set.of()).forwarded();
    }

    private static String decode(String raw) {
        if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) {
            return raw; // nothing to decode, and URLDecoder would still build a copy
        }
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }
}
