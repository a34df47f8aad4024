package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.AigateTest;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The management port serves health to anyone (the kubelet probes from the node) and the rest, whose metrics name
 * subscription ids, only to the allowed sources: by default the pod itself, 127.0.0.1 and ::1. Another pod is played
 * by a real TCP connection from 127.0.0.2, a loopback address outside the default list.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class ManagementAccessTest extends AigateTest {

    String get(String from, String path) throws Exception {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", management.getPort()), 5000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: aigate\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void anotherPodGetsHealthButNotTheMetricsThatNameSubscriptions() throws Exception {
        assertTrue(get("127.0.0.2", "/q/health/live").startsWith("HTTP/1.1 200"), "the kubelet's probe is served");
        String metrics = get("127.0.0.2", "/q/metrics");
        assertTrue(metrics.startsWith("HTTP/1.1 403"), metrics);
        assertTrue(metrics.contains("{\"statusCode\":403,\"message\":\"Only /q/health is served"), metrics);
        assertTrue(!metrics.contains("aigate_"), "no metric in the answer");
        assertTrue(get("127.0.0.2", "/q/metrics/").startsWith("HTTP/1.1 403"));
    }

    @Test
    void thePodItselfReadsTheMetrics() throws Exception {
        String metrics = get("127.0.0.1", "/q/metrics");
        assertTrue(
                metrics.startsWith("HTTP/1.1 200"), metrics.lines().findFirst().orElse(""));
        assertTrue(metrics.contains("aigate_"));
        assertEquals(true, metrics().contains("aigate_subscription_store_up"));
    }
}
