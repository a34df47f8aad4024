package io.aigate.gateway;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Copies headers from one hop to the next (RFC 9110 §7.6.1): hop-by-hop headers, and any header the sender named in
 * {@code Connection}, stay behind. Also the one place where the caller's credential headers are dropped on the way in.
 */
final class HopByHop {

    static final Set<String> HOP_BY_HOP = Set.of(
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade");

    /** Request headers aigate sets itself toward the backend. */
    private static final Set<String> SET_BY_AIGATE = Set.of("host", "content-length", "expect");

    private HopByHop() {}

    /**
     * @param dropped lower-case names of caller credentials (never forwarded, whatever the pipeline decides)
     */
    static MultiMap requestHeaders(MultiMap inbound, Set<String> dropped) {
        MultiMap out = HttpHeaders.headers();
        Set<String> named = namedInConnection(inbound);
        for (Map.Entry<String, String> header : inbound) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name)
                    && !SET_BY_AIGATE.contains(name)
                    && !dropped.contains(name)
                    && !named.contains(name)) {
                out.add(header.getKey(), header.getValue());
            }
        }
        return out;
    }

    static void copyResponseHeaders(MultiMap from, MultiMap to) {
        Set<String> named = namedInConnection(from);
        for (Map.Entry<String, String> header : from) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !named.contains(name)) {
                to.add(header.getKey(), header.getValue());
            }
        }
    }

    /** Every name in every {@code Connection} header: a second header line counts as much as the first. */
    private static Set<String> namedInConnection(MultiMap headers) {
        List<String> connection = headers.getAll(HttpHeaders.CONNECTION);
        if (connection.isEmpty()) {
            return Set.of();
        }
        Set<String> names = new HashSet<>();
        for (String line : connection) {
            for (String token : line.split(",")) {
                names.add(token.trim().toLowerCase(Locale.ROOT));
            }
        }
        return names;
    }

    /**
     * A {@code Content-Length} value as aigate reads it everywhere: -1 when absent; {@link Long#MAX_VALUE} when it is
     * not plain digits (a sign, a list, an overflow), so an unreadable size is never guessed, always too large.
     */
    static long contentLength(String value) {
        if (value == null) {
            return -1;
        }
        String digits = value.trim();
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Long.MAX_VALUE;
        }
        return Long.parseLong(digits);
    }
}
