package io.aigate.gateway;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Copies headers from one hop to the next (RFC 9110 §7.6.1): hop-by-hop headers, and any header the sender named in
 * {@code Connection}, stay behind. Also the one place where the caller's credential headers are dropped on the way in.
 */
final class HopByHop {

    static final Set<String> HOP_BY_HOP = caseless(List.of(
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade"));

    /**
     * Answer headers addressed to aigate, not the caller: a backend's challenge concerns aigate's own credential (the
     * caller's never reaches it), and a client that acted on it (a claims challenge) would only ask again.
     */
    private static final Set<String> FOR_AIGATE = caseless(List.of("www-authenticate"));

    /** Request headers aigate sets itself toward the backend. */
    private static final Set<String> SET_BY_AIGATE = caseless(List.of("host", "content-length", "expect"));

    private HopByHop() {}

    /**
     * A set of header names that matches without regard to case, and without lower-casing (and so allocating) the
     * name of every header of every request.
     */
    static Set<String> caseless(Collection<String> names) {
        // Vert.x's header map hashes and compares names without regard to case, and without copying them
        MultiMap set = HttpHeaders.headers();
        names.forEach(name -> set.set(name, ""));
        return new AbstractSet<>() {
            @Override
            public boolean contains(Object name) {
                return name instanceof CharSequence text && set.contains(text);
            }

            @Override
            public Iterator<String> iterator() {
                return Collections.unmodifiableSet(set.names()).iterator();
            }

            @Override
            public int size() {
                return set.names().size();
            }
        };
    }

    /**
     * @param dropped names of caller credentials (never forwarded, whatever the pipeline decides), {@link #caseless}
     */
    static MultiMap requestHeaders(MultiMap inbound, Set<String> dropped) {
        // not validated again: the names and values were validated as they were parsed, and the client validates the
        // copy it sends
        MultiMap out = MultiMap.caseInsensitiveMultiMap();
        Set<String> named = namedInConnection(inbound);
        inbound.forEach((name, value) -> {
            if (!HOP_BY_HOP.contains(name)
                    && !SET_BY_AIGATE.contains(name)
                    && !dropped.contains(name)
                    && !named.contains(name)) {
                out.add(name, value);
            }
        });
        return out;
    }

    static void copyResponseHeaders(MultiMap from, MultiMap to) {
        Set<String> named = namedInConnection(from);
        from.forEach((name, value) -> {
            if (!HOP_BY_HOP.contains(name) && !named.contains(name) && !FOR_AIGATE.contains(name)) {
                to.add(name, value);
            }
        });
    }

    /** Every name in every {@code Connection} header: a second header line counts as much as the first. */
    private static Set<String> namedInConnection(MultiMap headers) {
        List<String> names = null;
        // nearly every message says only "keep-alive" or "close": those name no header, and cost no set
        for (String line : headers.getAll(HttpHeaders.CONNECTION)) {
            int start = 0;
            while (start <= line.length()) {
                int comma = line.indexOf(',', start);
                int end = comma < 0 ? line.length() : comma;
                String token = line.substring(start, end).trim();
                if (!token.isEmpty() && !HOP_BY_HOP.contains(token) && !token.equalsIgnoreCase("close")) {
                    if (names == null) {
                        names = new ArrayList<>();
                    }
                    names.add(token);
                }
                start = end + 1;
            }
        }
        return names == null ? Set.of() : caseless(names);
    }
}
