package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
