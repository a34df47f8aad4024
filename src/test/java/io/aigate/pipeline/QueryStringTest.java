package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueryStringTest {

    private static final Set<String> DROPPED = Set.of("subscription-key");
    private static final Set<String> DECIDING = Set.of("api-version", "subscription-key");

    @Test
    void readsEveryQueryAsTheStraightforwardSplitAndCopyDid() {
        // pieces an attacker would combine: encodings, case, empty pairs, names without values, bad escapes
        String[] pieces = {
            "api-version=1",
            "API-Version=2",
            "api%2Dversion=3",
            "subscription-key=k",
            "Subscription%2dKey=k",
            "a=1",
            "b",
            "=x",
            "",
            "%zz=1",
            "c=%zz",
            "d+e=2",
            "x=a=b",
            "subscription-key",
            "API%2dVERSION"
        };
        Random random = new Random(13);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder query = new StringBuilder();
            int n = random.nextInt(6);
            for (int p = 0; p < n; p++) {
                if (p > 0 || random.nextInt(8) == 0) {
                    query.append('&');
                }
                query.append(pieces[random.nextInt(pieces.length)]);
            }
            if (random.nextInt(8) == 0) {
                query.append('&');
            }
            String q = query.toString();
            for (Set<String> dropped : java.util.List.of(DROPPED, Set.<String>of())) {
                assertEquals(reference(q, dropped, DECIDING), QueryString.read(q, dropped, DECIDING), q);
            }
        }
    }

    @Test
    void aQueryWithNothingToLeaveOutIsForwardedAsItCame() {
        String query = "api-version=2024-10-21&x=1";
        assertSame(query, QueryString.read(query, DROPPED, DECIDING).forwarded());
    }

    @Test
    void valuesAreDecodedPlusAndPercentAlike() {
        assertEquals("a b", QueryString.first("x=a+b", "x"));
        assertEquals("a-b", QueryString.first("x=a%2Db", "X"));
        assertEquals("plain", QueryString.first("y=1&x=plain", "x"));
        assertEquals("1", QueryString.first("x=%zz&y=1", "y"));
        assertEquals(null, QueryString.first("x=%zz", "x"), "a value that cannot be decoded is no value");
    }

    /** The reading as it was first written: split, decode every name, copy what is kept. */
    private static QueryString.Reading reference(String query, Set<String> dropped, Set<String> deciding) {
        if (query == null || query.isEmpty()) {
            return new QueryString.Reading(query, null);
        }
        StringBuilder out = dropped.isEmpty() ? null : new StringBuilder(query.length());
        Set<String> seen = new HashSet<>(4);
        String repeated = null;
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String decoded;
            try {
                decoded = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                decoded = null;
            }
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
        return new QueryString.Reading(out == null ? query : out.toString(), repeated);
    }
}
