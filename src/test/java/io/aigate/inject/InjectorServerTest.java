package io.aigate.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import java.io.FileInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The webhook over real HTTPS on loopback, with PEM files as cert-manager mounts them. */
class InjectorServerTest {

    static Vertx vertx;
    static InjectorServer server;
    static int port;
    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        port = serve(InjectorLimits.DEFAULTS);
    }

    /**
     * A server on a free loopback port, with the test certificate (trusted by the suite's truststore) written out as
     * cert-manager mounts it, tls.crt and tls.key.
     */
    static int serve(InjectorLimits limits) throws Exception {
        KeyStore p12 = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream("src/test/resources/tls/fake-entra.p12")) {
            p12.load(in, "changeit".toCharArray());
        }
        String alias = p12.aliases().nextElement();
        Key key = p12.getKey(alias, "changeit".toCharArray());
        Certificate cert = p12.getCertificate(alias);
        Path dir = Files.createTempDirectory("aigate-webhook-tls");
        Path crt = dir.resolve("tls.crt");
        Path pem = dir.resolve("tls.key");
        Files.writeString(crt, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(pem, pem("PRIVATE KEY", key.getEncoded()));
        server = new InjectorServer(
                vertx, new PodMutator(InjectorSettings.defaults("ghcr.io/aigate/aigate:0.1.0")), crt, pem, limits);
        return server.start("127.0.0.1", 0)
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    HttpResponse<String> send(String method, String path, byte[] body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + port + path))
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofByteArray(body))
                        .header("Content-Type", "application/json")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aReviewIsAnsweredOverHttpsWithItsPatch() throws Exception {
        HttpResponse<String> r = send(
                "POST", "/mutate", Files.readAllBytes(PodMutatorGoldenTest.FIXTURES.resolve("plain-pod.review.json")));
        assertEquals(200, r.statusCode());
        JsonNode answer = new ObjectMapper().readTree(r.body());
        assertEquals("uid-plain-pod", answer.path("response").path("uid").asText());
        assertTrue(answer.path("response").path("allowed").asBoolean());
        assertEquals(
                PodMutatorGoldenTest.decision(answer),
                new ObjectMapper()
                        .readTree(PodMutatorGoldenTest.FIXTURES
                                .resolve("plain-pod.expected.json")
                                .toFile()));
    }

    @Test
    void hostileOrMistakenRequestsGetClearAnswersAndTheServerStaysUp() throws Exception {
        HttpResponse<String> garbage = send("POST", "/mutate", "{\"request\": [1, 2".getBytes());
        assertEquals(200, garbage.statusCode(), "the API server reads the refusal from the review");
        assertFalse(new ObjectMapper()
                .readTree(garbage.body())
                .path("response")
                .path("allowed")
                .asBoolean());
        assertEquals(405, send("GET", "/mutate", null).statusCode());
        assertEquals(404, send("POST", "/other", "{}".getBytes()).statusCode());
        HttpResponse<String> huge = send("POST", "/mutate", new byte[4 * 1024 * 1024]);
        assertEquals(413, huge.statusCode());
        assertEquals("{\"statusCode\":413,\"message\":\"An AdmissionReview is at most 3 MB.\"}", huge.body());
        assertEquals("ok", send("GET", "/healthz", null).body());
    }

    /** Opens a review that declares a body and sends only its first bytes: a sender that stalls. */
    static javax.net.ssl.SSLSocket stalled(int port) throws Exception {
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket)
                javax.net.ssl.SSLSocketFactory.getDefault().createSocket("localhost", port);
        socket.setSoTimeout(10_000);
        socket.getOutputStream()
                .write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 100000\r\n\r\n{\"request\":")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    static String statusLine(javax.net.ssl.SSLSocket socket) throws Exception {
        java.io.BufferedReader in = new java.io.BufferedReader(
                new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.US_ASCII));
        String line = in.readLine();
        return line == null ? "closed" : line;
    }

    HttpResponse<String> sendTo(int to, String path, byte[] body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create("https://localhost:" + to + path))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .header("Content-Type", "application/json")
                        .timeout(java.time.Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void slowSendersHoldATurnOnlyUntilTheDeadlineAndTheRestWaitOrAreTurnedAway() throws Exception {
        int tight = serve(new InjectorLimits(3 * 1024 * 1024, 1, 1, java.time.Duration.ofMillis(1500), 64));
        byte[] plain = Files.readAllBytes(PodMutatorGoldenTest.FIXTURES.resolve("plain-pod.review.json"));
        try (javax.net.ssl.SSLSocket slow = stalled(tight)) {
            Thread.sleep(200); // it holds the one turn
            java.util.concurrent.CompletableFuture<HttpResponse<String>> queued = HTTP.sendAsync(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + tight + "/mutate"))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(plain))
                            .header("Content-Type", "application/json")
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            Thread.sleep(200);
            HttpResponse<String> turnedAway = sendTo(tight, "/mutate", plain);
            assertEquals(429, turnedAway.statusCode(), turnedAway.body());
            assertTrue(new ObjectMapper()
                    .readTree(turnedAway.body())
                    .path("message")
                    .asText()
                    .contains("failure"));
            assertEquals(
                    "ok",
                    HTTP.send(
                                    HttpRequest.newBuilder(URI.create("https://localhost:" + tight + "/healthz"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body(),
                    "health answers while every turn is taken");
            long before = System.nanoTime();
            assertTrue(statusLine(slow).contains("408"), "the stalled review is answered at its deadline");
            assertTrue(System.nanoTime() - before < TimeUnit.SECONDS.toNanos(5));
            HttpResponse<String> served = queued.get(10, TimeUnit.SECONDS);
            assertEquals(200, served.statusCode());
            assertEquals(
                    "uid-plain-pod",
                    new ObjectMapper()
                            .readTree(served.body())
                            .path("response")
                            .path("uid")
                            .asText());
        }
    }

    @Test
    void aDeclaredSizeOverTheBoundIsRefusedBeforeAnyByteIsRead() throws Exception {
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket)
                javax.net.ssl.SSLSocketFactory.getDefault().createSocket("localhost", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 900000000\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            assertTrue(statusLine(socket).contains("413"));
        }
    }

    /** 2.9 MB of empty containers is within the byte bound; the tree it would make is not. */
    @Test
    void aReviewWhoseTreeWouldBeHugeIsRefusedAsUnreadable() throws Exception {
        StringBuilder wide = new StringBuilder("{\"request\":{\"uid\":\"u\",\"kind\":{\"kind\":\"Pod\"},"
                + "\"object\":{\"spec\":{\"containers\":[{}");
        while (wide.length() < 2_900_000) {
            wide.append(",{}");
        }
        wide.append("]}}}}");
        HttpResponse<String> r = send("POST", "/mutate", wide.toString().getBytes());
        assertEquals(200, r.statusCode());
        JsonNode answer = new ObjectMapper().readTree(r.body());
        assertFalse(answer.path("response").path("allowed").asBoolean());
        assertTrue(
                answer.path("response").path("status").path("message").asText().contains("within bounds"), r.body());
    }

    /** The registration for namespaces an admin keeps for aigate judges them as such; the other does not. */
    @Test
    void theSidecarOnlyPathJudgesAsAGuardedNamespace() throws Exception {
        byte[] review =
                Files.readAllBytes(PodMutatorGoldenTest.FIXTURES.resolve("guarded-identity-not-opted-in.review.json"));
        JsonNode guarded = new ObjectMapper()
                .readTree(send("POST", "/mutate/sidecar-only", review).body());
        JsonNode plain =
                new ObjectMapper().readTree(send("POST", "/mutate", review).body());
        assertFalse(guarded.path("response").path("allowed").asBoolean(), guarded.toString());
        assertTrue(plain.path("response").path("allowed").asBoolean(), plain.toString());
    }

    /** A header trickled a byte at a time resets any idle timer; the head's own deadline still ends it. */
    @Test
    void aTrickledHeaderIsCutAtItsDeadlineAndNoAddressHoldsEveryConnection() throws Exception {
        int tight = serve(new InjectorLimits(3 * 1024 * 1024, 1, 1, java.time.Duration.ofMillis(1500), 8));
        try (javax.net.ssl.SSLSocket trickle = (javax.net.ssl.SSLSocket)
                javax.net.ssl.SSLSocketFactory.getDefault().createSocket("localhost", tight)) {
            trickle.setSoTimeout(200);
            java.io.OutputStream out = trickle.getOutputStream();
            out.write("POST /mutate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".getBytes());
            out.flush();
            long start = System.nanoTime();
            boolean closed = false;
            while (!closed && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(6)) {
                try {
                    out.write('a');
                    out.flush();
                    closed = trickle.getInputStream().read() < 0;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // nothing to read yet: the server still holds it
                } catch (java.io.IOException reset) {
                    closed = true;
                }
            }
            assertTrue(closed, "a head that never completes is closed");
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "at its deadline, not at idle");
        }
        // 8 connections in all, at most a quarter of them from one address
        java.util.List<javax.net.ssl.SSLSocket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket)
                        javax.net.ssl.SSLSocketFactory.getDefault().createSocket("localhost", tight);
                socket.setSoTimeout(3000);
                socket.startHandshake();
                held.add(socket);
            }
            Thread.sleep(200);
            int refused = 0;
            for (javax.net.ssl.SSLSocket socket : held) {
                socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
                socket.getOutputStream().flush();
                String line;
                try {
                    line = statusLine(socket);
                } catch (java.io.IOException e) {
                    line = "closed";
                }
                refused += line.contains("200") ? 0 : 1;
            }
            assertEquals(1, refused, "the third connection from one address is closed");
        } finally {
            for (javax.net.ssl.SSLSocket socket : held) {
                socket.close();
            }
        }
    }
}
