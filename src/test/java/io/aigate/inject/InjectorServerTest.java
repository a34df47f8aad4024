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
        // the test certificate (trusted by the suite's truststore), written out as tls.crt and tls.key
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
        vertx = Vertx.vertx();
        server = new InjectorServer(
                vertx, new PodMutator(InjectorSettings.defaults("ghcr.io/aigate/aigate:0.1.0")), crt, pem);
        port = server.start("127.0.0.1", 0)
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
}
