package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HopByHopTest {

    @Test
    void hopByHopHeadersAndEveryHeaderAnyConnectionLineNamesStayBehind() {
        MultiMap in = HttpHeaders.headers()
                .add("Connection", "keep-alive, X-First")
                .add("connection", "x-second")
                .add("X-First", "1")
                .add("X-Second", "2")
                .add("X-Kept", "3")
                .add("Transfer-Encoding", "chunked")
                .add("Content-Length", "5")
                .add("Host", "evil")
                .add("Ocp-Apim-Subscription-Key", "aig_x")
                .add("Te", "trailers")
                .add("Upgrade", "h2c");
        MultiMap out = HopByHop.requestHeaders(in, HopByHop.caseless(Set.of("ocp-apim-subscription-key")));
        assertEquals(Set.of("X-Kept"), out.names());

        MultiMap answer = HttpHeaders.headers();
        HopByHop.copyResponseHeaders(
                HttpHeaders.headers()
                        .add("Connection", "close")
                        .add("Connection", "x-secret")
                        .add("X-Secret", "s")
                        .add("Content-Type", "application/json")
                        .add("Keep-Alive", "timeout=5"),
                answer);
        assertEquals(Set.of("Content-Type"), answer.names());
    }

    @Test
    void aContentLengthIsPlainDigitsOrTooLarge() {
        assertEquals(-1, HopByHop.contentLength(null));
        assertEquals(0, HopByHop.contentLength("0"));
        assertEquals(1024, HopByHop.contentLength(" 1024 "));
        for (String lie : new String[] {"-1", "+5", "1,2", "0x10", "", "99999999999999999999", "1e3", "٣"}) {
            assertEquals(Long.MAX_VALUE, HopByHop.contentLength(lie), lie);
        }
        assertTrue(HopByHop.contentLength("999999999999999999") > 0);
        assertFalse(HopByHop.contentLength("12") == Long.MAX_VALUE);
    }
}
