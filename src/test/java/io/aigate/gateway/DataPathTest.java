package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.HeldStreams;
import io.aigate.testing.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class DataPathTest extends AigateTest {

    static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve(path))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (headers.length == 0 || !List.of(headers).contains("Ocp-Apim-Subscription-Key")) {
            request.header("Ocp-Apim-Subscription-Key", CloudDoubles.key);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void assertApimError(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonObject body = new JsonObject(response.body());
        assertEquals(status, body.getInteger("statusCode"));
        assertNotNull(body.getString("message"));
    }

    void assertBackendUntouched() throws InterruptedException {
        assertNull(CloudDoubles.openAi.next(1), "the backend must not have been contacted");
    }

    @Test
    void backendGetsTheManagedIdentityTokenAndNoneOfTheCallersCredentials() throws Exception {
        HttpResponse<String> response = post(
                "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&subscription-key=sub-secret&x=1",
                CHAT,
                "Authorization",
                "Bearer caller-token",
                "api-key",
                "caller-api-key",
                "Ocp-Apim-Subscription-Key",
                CloudDoubles.key,
                "X-Trace",
                "abc",
                "Proxy-Authorization",
                "Basic x");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals(FakeAzureOpenAi.completion("gpt-4o"), response.body());

        FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
        assertEquals("/openai/deployments/gpt-4o/chat/completions", got.path());
        assertEquals("api-version=2024-10-21&x=1", got.query());
        assertTrue(CloudDoubles.entra.isValidBearer(got.header("Authorization")), got.header("Authorization"));
        assertEquals(
                "https://cognitiveservices.azure.com",
                CloudDoubles.entra
                        .issued(got.header("Authorization").substring(7))
                        .resource()
                        .replace("/.default", ""));
        assertNull(got.header("api-key"));
        assertNull(got.header("Ocp-Apim-Subscription-Key"));
        assertNull(got.header("Proxy-Authorization"));
        assertEquals("abc", got.header("X-Trace"));
        assertEquals(CHAT, got.body());
        String everything = got.headers().toString() + got.query() + got.body();
        for (String secret : List.of("caller-token", "caller-api-key", CloudDoubles.key, "sub-secret")) {
            assertFalse(everything.contains(secret), secret + " reached the backend");
        }
    }

    @Test
    void v1PathsRouteByModelAndProviderKeysAreSetFromTheMountedFile() throws Exception {
        HttpResponse<String> response = post(
                "/openai/v1/chat/completions",
                "{\"model\":\"mistral-large\",\"messages\":[]}",
                "Authorization",
                "Bearer caller-token");
        assertEquals(200, response.statusCode(), response.body());
        FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
        assertEquals("/mistral/v1/chat/completions", got.path());
        assertEquals("Bearer " + CloudDoubles.PROVIDER_KEY, got.header("Authorization"));
    }

    @Test
    void streamedEventsReachTheCallerBeforeTheBackendHasFinished() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CloudDoubles.openAi.holdStreamAfterFirstEvent(release);
        try {
            HttpRequest request = HttpRequest.newBuilder(
                            URI.create(base.toString()).resolve("/openai/deployments/gpt-4o/chat/completions"))
                    .header("api-key", CloudDoubles.key)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true,\"messages\":[]}"))
                    .build();
            HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
            String first = reader.readLine();
            assertTrue(first.startsWith("data: ") && first.contains("\"Hello\""), first);
            assertTrue(CloudDoubles.openAi.holding(), "the first event arrived while the backend still held the rest");
            release.countDown();
            List<String> events = new ArrayList<>();
            for (String line; (line = reader.readLine()) != null; ) {
                if (!line.isEmpty()) {
                    events.add(line);
                }
            }
            assertEquals("data: [DONE]", events.get(events.size() - 1));
            assertEquals(FakeAzureOpenAi.WORDS.length + 1, events.size(), events.toString());
        } finally {
            release.countDown();
        }
    }

    @Test
    void backendErrorsPassThroughUntouched() throws Exception {
        HttpResponse<String> response = post("/openai/deployments/throttled/chat/completions?api-version=1", CHAT);
        assertEquals(429, response.statusCode());
        assertEquals("7", response.headers().firstValue("Retry-After").orElse(null));
        assertEquals(
                "Sweden Central", response.headers().firstValue("x-ms-region").orElse(null));
        assertEquals(
                "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the ChatCompletions_Create Operation "
                        + "have exceeded the token rate limit.\"}}",
                response.body());
    }

    @Test
    void unmatchedPathsAre404WithoutBackendContact() throws Exception {
        assertApimError(post("/openai/deployments/no-such/chat/completions", CHAT), 404);
        assertApimError(post("/openai/v1/chat/completions", "{\"model\":\"no-such\"}"), 404);
        assertApimError(post("/openai/v1/chat/completions", "not json"), 400);
        assertApimError(post("/admin/keys", CHAT), 404);
        assertApimError(post("/openai/deployments/gpt-4o", CHAT), 404);
        assertApimError(post("/openai/other", CHAT), 404);
        assertEquals(
                "Resource not found", new JsonObject(post("/q/health", CHAT).body()).getString("message"));
        assertBackendUntouched();
    }

    @Test
    void pathsThatWouldEscapeTheirRouteNeverReachABackend() throws Exception {
        int port = base.getPort();
        for (String target : List.of(
                "/openai/deployments/gpt-4o/../../../admin",
                "/openai/deployments/%2e%2e/x",
                "/openai/deployments/gpt-4o%2Fchat/completions",
                "/openai/v1/..%2f..%2fsecrets",
                "/openai/deployments/gpt-4o/chat%5c..%5cx",
                "/openai/deployments/gpt-4o/./chat",
                "/openai/deployments/gpt-4o//chat",
                "/openai/deployments/gpt-4o/chat%00",
                "http://evil.example/openai/deployments/gpt-4o/chat/completions",
                "//evil.example/openai/v1/chat")) {
            String response = RawHttp.exchange(
                    port, "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Connection: close\r\n\r\n");
            int status = RawHttp.status(response);
            assertTrue(status == 400 || status == 404, target + " -> " + response);
            assertEquals(status, new JsonObject(RawHttp.body(response)).getInteger("statusCode"), target);
        }
        assertBackendUntouched();
    }

    @Test
    void traceAndInventedMethodsAre405WithoutBackendContact() throws Exception {
        for (String method : List.of("TRACE", "FROB")) {
            String response = RawHttp.exchange(
                    base.getPort(),
                    method + " /openai/deployments/gpt-4o/chat/completions"
                            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nOcp-Apim-Subscription-Key: " + CloudDoubles.key
                            + "\r\nConnection: close\r\n\r\n");
            assertEquals(405, RawHttp.status(response), response);
            assertEquals(405, new JsonObject(RawHttp.body(response)).getInteger("statusCode"));
        }
        assertBackendUntouched();
    }

    @Test
    void expectContinueIsAnsweredSoLargeBodiesDoNotWait() throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", base.getPort())) {
            socket.setSoTimeout(2000);
            socket.getOutputStream()
                    .write(("POST /openai/deployments/gpt-4o/chat/completions HTTP/1.1\r\n"
                                    + "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                                    + "Ocp-Apim-Subscription-Key: " + CloudDoubles.key
                                    + "\r\nExpect: 100-continue\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            byte[] buf = new byte[64];
            int n = socket.getInputStream().read(buf);
            assertTrue(new String(buf, 0, n, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 100 Continue"));
            socket.getOutputStream().write("{}".getBytes(StandardCharsets.ISO_8859_1));
            n = socket.getInputStream().read(buf);
            assertTrue(new String(buf, 0, n, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 200"));
        }
    }

    @Test
    void theHostHeaderNeverSteersTheRequest() throws Exception {
        String response = RawHttp.exchange(
                base.getPort(),
                "POST /openai/deployments/gpt-4o/chat/completions "
                        + "HTTP/1.1\r\nHost: evil.example:443\r\nOcp-Apim-Subscription-Key: " + CloudDoubles.key
                        + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        assertEquals(200, RawHttp.status(response), response);
        FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
        assertEquals("127.0.0.1:" + CloudDoubles.openAi.port(), got.header("Host"));
    }

    @Test
    void bodiesOverTheLimitAre413WithoutBackendContact() throws Exception {
        String big = "{\"messages\":\"" + "x".repeat(1024 * 1024) + "\"}";
        assertApimError(post("/openai/deployments/gpt-4o/chat/completions", big), 413);
        // no Content-Length: the limit is enforced while reading
        HttpRequest chunked = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/gpt-4o/chat/completions"))
                .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8))))
                .build();
        try {
            HttpResponse<String> response = HTTP.send(chunked, HttpResponse.BodyHandlers.ofString());
            assertApimError(response, 413);
        } catch (IOException closedWhileSending) {
            // the server may close before the client finished sending: also a refusal
        }
        assertBackendUntouched();
    }

    @Test
    void anUnreachableBackendIs502AndASilentOneIs504() throws Exception {
        HttpResponse<String> dead = post("/openai/deployments/gpt-dead/chat/completions", CHAT);
        assertApimError(dead, 502);
        assertServerTimingSays(dead, "connection_failure");
        CloudDoubles.openAi.slowMillis(3000);
        long start = System.nanoTime();
        HttpResponse<String> silent = post("/openai/deployments/gpt-slow/chat/completions", CHAT);
        assertApimError(silent, 504);
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 2900, "timed out at the backend timeout");
        assertServerTimingSays(silent, "timeout");
    }

    /** The caller can tell why the backend gave no answer, in the same words as the spans and meters. */
    static void assertServerTimingSays(HttpResponse<String> response, String why) {
        String timing = response.headers().firstValue("Server-Timing").orElse("");
        assertTrue(timing.matches("aigate;dur=\\d+\\.\\d{3};desc=\"" + why + "\""), timing);
    }

    @Test
    void aFullConnectionPoolAnswersAtOnceAndNeverRestsTheBackend() throws Exception {
        // streams hold the narrow backend's one connection per event loop; one more request than there are event
        // loops must find its loop's connection in use
        CloudDoubles.openAi.clear();
        try (HeldStreams streams = new HeldStreams(CloudDoubles.openAi)) {
            HttpResponse<InputStream> busy = streams.until(HTTP, base, "gpt-narrow", r -> r.statusCode() != 200);
            assertNotNull(busy, "a request found its event loop's one connection in use");
            String body = new String(busy.body().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(503, busy.statusCode(), body);
            assertEquals(
                    "Every connection aigate may open to the backend is in use (max-connections). Retry shortly.",
                    new JsonObject(body).getString("message"));
            assertEquals("1", busy.headers().firstValue("Retry-After").orElse(null));
            assertTrue(streams.size() > 0);
            assertEquals(
                    streams.size(), CloudDoubles.openAi.pending(), "the refused request never reached the backend");
            assertEquals(
                    1.0,
                    metric("aigate_backend_state", "backend=\"narrow\",state=\"closed\""),
                    "aigate's own limit is not the backend's failure: its breaker (tripped by one) stays closed");
        }
    }

    @Test
    void aCallerThatStopsReadingIsCutAsTheCallerNotBlamedOnTheBackend() throws Exception {
        double callers = cuts("caller");
        double backends = cuts("backend");
        String body = "{\"stream\":true}";
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.setReceiveBufferSize(16 * 1024);
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", base.getPort()));
            socket.getOutputStream()
                    .write(("POST /openai/deployments/gpt-flood/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                                    + "Ocp-Apim-Subscription-Key: " + CloudDoubles.key + "\r\n"
                                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n"
                                    + body)
                            .getBytes(StandardCharsets.ISO_8859_1));
            // read nothing while the backend floods: every buffer on the way fills, then the answer waits on us for
            // longer than the backend's 1 s timeout
            Await.until(
                    "the answer is cut",
                    Duration.ofSeconds(15),
                    () -> cuts("caller") > callers || cuts("backend") > backends);
            socket.setSoTimeout(10_000);
            InputStream in = socket.getInputStream();
            byte[] sink = new byte[64 * 1024];
            try {
                while (in.read(sink) >= 0) {
                    // what was already on its way, then the end: aigate closed the connection
                }
            } catch (java.net.SocketException reset) {
                // closed with bytes unread: also the end
            }
        }
        assertEquals(backends, cuts("backend"), "the backend never went silent: it waited on the caller");
        assertEquals(callers + 1, cuts("caller"));
    }

    double cuts(String why) throws Exception {
        return metric("aigate_responses_cut_total", "backend=\"slow\",route=\"slow\",why=\"" + why + "\"");
    }

    @Test
    void aConnectionReusedAfterAQuietSpellGetsTheWholeTimeout() throws Exception {
        // the backend's timeout is 1 s; a kept-alive connection last read from 1 s ago is reused for an answer that
        // takes 0.6 s: the wait is measured from this request, not from the connection's last read (a backend that
        // served, and billed, would otherwise be cut at 0.1 s and the caller told it was unreachable)
        CloudDoubles.openAi.slowMillis(0);
        assertEquals(
                200, post("/openai/deployments/gpt-slow/chat/completions", CHAT).statusCode());
        Thread.sleep(1000);
        CloudDoubles.openAi.slowMillis(600);
        HttpResponse<String> answered = post("/openai/deployments/gpt-slow/chat/completions", CHAT);
        assertEquals(200, answered.statusCode(), answered.body());
    }

    @Test
    void aStreamThatStallsMidwayIsCutNotEndedCleanly() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/gpt-stall/chat/completions"))
                .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true}"))
                .build();
        HttpResponse<InputStream> response = HTTP.send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertThrows(
                IOException.class,
                () -> response.body().readAllBytes(),
                "a cut stream must fail at the caller, not look complete");
    }

    @Test
    void noBackendTokenMeans503WithRetryAfterAndNoBackendContact() throws Exception {
        HttpResponse<String> response = post("/openai/deployments/gpt-broken/chat/completions", CHAT);
        assertApimError(response, 503);
        int retryAfter =
                Integer.parseInt(response.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 30, "Retry-After " + retryAfter);
        assertBackendUntouched();
    }

    @Test
    void readinessStaysUpWhileOneBackendLacksATokenAndSaysWhich() throws Exception {
        // the broken identity's first fetch ends after azure-identity's own retries; readiness never drops meanwhile
        JsonObject[] check = new JsonObject[1];
        Await.until("the broken identity reported as such", Duration.ofSeconds(60), () -> {
            HttpResponse<String> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create(management.toString()).resolve("/q/health/ready"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            assertFalse(response.body().contains("fake-entra."), "no token in health output");
            check[0] = new JsonObject(response.body())
                    .getJsonArray("checks").stream()
                            .map(JsonObject.class::cast)
                            .filter(c -> c.getString("name").equals("backend-credentials"))
                            .findFirst()
                            .orElseThrow();
            assertEquals("UP", check[0].getString("status"));
            assertTrue(check[0].getJsonObject("data").getString("aoai").startsWith("token valid"), check[0].encode());
            return check[0].getJsonObject("data").getString("aoai-broken").startsWith("no valid token");
        });
    }

    @Test
    void metricsCountRequestsByRouteBackendAndStatus() throws Exception {
        post("/openai/deployments/gpt-4o/chat/completions", CHAT);
        String metrics = metrics();
        assertTrue(
                metrics.contains("aigate_requests_seconds_count{backend=\"aoai\",route=\"default\",status=\"200\"}"),
                metrics);
        assertTrue(metrics.contains("aigate_overhead_seconds_count{route=\"default\"}"));
        assertTrue(metrics.contains("aigate_identity_token_remaining_seconds"));
    }
}
