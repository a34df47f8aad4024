package io.aigate.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Await;
import io.aigate.testing.PackagedAigate;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The packaged sidecar as its own process, with the JVM flags of Dockerfile.jvm, stopped the way the kubelet stops it: SIGTERM while a stream is in flight.
 * Readiness must turn false at once, new requests must be turned away, the stream must finish whole, and the process
 * must then exit by itself within the grace period.
 */
class GracefulShutdownIT {

    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    LocalRedis redis;
    FakeAzureOpenAi openAi;
    PackagedAigate packaged;
    Process aigate;

    @AfterEach
    void stop() {
        if (packaged != null) {
            packaged.close();
        }
        if (openAi != null) {
            openAi.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    int status(String url) {
        return packaged.status(url);
    }

    /** @param backendTimeout how long the backend may stay silent before aigate cuts its answer */
    private void startAigate(String backendTimeout) throws Exception {
        startAigate(fake -> Map.of("AIGATE_BACKENDS_AOAI_TIMEOUT", backendTimeout));
    }

    /** No subscription key needed, 20 s to shut down, and what {@code more} adds once the fake runs. */
    private void startAigate(java.util.function.Function<FakeAzureOpenAi, Map<String, String>> more) throws Exception {
        redis = new LocalRedis(LocalRedis.freePort()).start();
        openAi = FakeAzureOpenAi.start(0);
        Map<String, String> env = new java.util.HashMap<>(more.apply(openAi));
        env.put("AIGATE_SUBSCRIPTION_KEY_REQUIRED", "false");
        env.put("QUARKUS_SHUTDOWN_TIMEOUT", "20s");
        packaged = PackagedAigate.againstFakes(redis.url(), openAi.url(), env);
        aigate = packaged.process();
    }

    @Test
    void aStreamInFlightAtSigtermCompletesAndReadinessDropsAtOnce() throws Exception {
        startAigate("300s");
        String ready = packaged.managementUrl("/q/health/ready");

        // the probe the injector gives every sidecar (startupProbe) is served by the artifact
        assertEquals(200, status(packaged.managementUrl("/q/health/started")));
        assertEquals(200, status(packaged.managementUrl("/q/health/live")));

        CountDownLatch release = new CountDownLatch(1);
        openAi.holdStreamAfterFirstEvent(release);
        String chat = packaged.url("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
        HttpResponse<InputStream> stream = HTTP.send(
                HttpRequest.newBuilder(URI.create(chat))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[],\"stream\":true}"))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, stream.statusCode());
        BufferedReader events = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8));
        String first = events.readLine();
        assertTrue(first.startsWith("data: ") && first.contains("Hello"), first);

        aigate.toHandle().destroy(); // SIGTERM, as the kubelet sends it
        Await.until("readiness false within 2 s of SIGTERM", Duration.ofSeconds(2), () -> status(ready) != 200);
        int[] fresh = new int[1];
        Await.until(
                "new requests refused during shutdown",
                Duration.ofSeconds(2),
                () -> (fresh[0] = status(chat.replace("/chat/completions", "/embeddings"))) != 200);
        assertTrue(fresh[0] == 503 || fresh[0] < 0, "new requests get 503 during shutdown: " + fresh[0]);
        assertTrue(aigate.isAlive(), "aigate must wait for the stream in flight");

        release.countDown(); // the backend sends the rest
        StringBuilder rest = new StringBuilder();
        String line;
        while ((line = events.readLine()) != null) {
            rest.append(line).append('\n');
        }
        String whole = first + "\n" + rest;
        for (String word : FakeAzureOpenAi.WORDS) {
            assertTrue(whole.contains("\"" + word + "\""), "missing " + word + " in " + whole);
        }
        assertTrue(rest.toString().contains("data: [DONE]"), "the stream ended cleanly: " + rest);
        assertTrue(aigate.waitFor(20, TimeUnit.SECONDS), "aigate did not exit after the stream finished");
        // a JVM stopped by SIGTERM reports 143 (128 + 15) after its shutdown ran; anything else is a crash
        assertTrue(
                aigate.exitValue() == 0 || aigate.exitValue() == 143,
                "exit " + aigate.exitValue() + ": " + packaged.output());
        String output = packaged.output();
        assertTrue(output.contains("shutting down: new requests get 503"), output);
        assertTrue(!output.contains("Exception"), "a clean shutdown logs no exception: " + output);
    }

    @Test
    void callersWhoHangUpHoldNothingOpenAndAreNotBlamedOnTheBackend() throws Exception {
        startAigate("1s");
        URI target = URI.create(packaged.url("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"));
        // callers that hang up while the backend works on their request ...
        openAi.slowMillis(300);
        for (int i = 0; i < 10; i++) {
            try (Socket caller = send(target, "{\"messages\":[]}")) {
                openAi.next(5); // the backend has it
                caller.setSoLinger(true, 0); // and the caller resets its connection
            }
        }
        // ... and callers that hang up in the middle of a stream
        openAi.slowMillis(0);
        openAi.eventDelayMillis(100);
        for (int i = 0; i < 10; i++) {
            try (Socket caller = send(target, "{\"messages\":[],\"stream\":true}")) {
                BufferedReader answer =
                        new BufferedReader(new InputStreamReader(caller.getInputStream(), StandardCharsets.ISO_8859_1));
                String line;
                while ((line = answer.readLine()) != null && !line.startsWith("data: ")) {
                    // headers and chunk sizes
                }
                caller.setSoLinger(true, 0);
            }
        }
        // ... and callers that send a second request on a kept-alive connection and hang up while it is answered
        openAi.eventDelayMillis(0);
        for (int i = 0; i < 100; i++) {
            try (Socket caller = send(target, "{\"messages\":[]}")) {
                caller.getInputStream().read(new byte[65536]);
                write(caller, target, "{\"messages\":[]}");
                TimeUnit.MICROSECONDS.sleep(300L * (i % 10)); // hang up at every moment of the second exchange
                caller.setSoLinger(true, 0);
            }
        }
        // a stream the backend stops feeding is cut by aigate: that, too, must leave nothing open
        try (Socket caller = send(
                URI.create(target.toString().replace("gpt-4o", "gpt-stall")), "{\"messages\":[],\"stream\":true}")) {
            InputStream answer = caller.getInputStream();
            while (answer.read() >= 0) {
                // the first event, then the cut
            }
        }
        long stopping = System.nanoTime();
        aigate.toHandle().destroy();
        // nothing is in flight: the shutdown must not wait out its 20 s for requests whose callers are long gone
        assertTrue(aigate.waitFor(10, TimeUnit.SECONDS), "aigate waited for requests nobody was waiting for");
        assertTrue(System.nanoTime() - stopping < TimeUnit.SECONDS.toNanos(10));
        String output = packaged.output();
        // one backend failure was real, the stalled stream; a caller's hang-up is no failure of the backend
        assertEquals(1, output.split("backend aoai:", -1).length - 1, output);
        assertTrue(!output.contains("\tat "), "a caller's hang-up logs no stack trace: " + output);
    }

    @Test
    void anOpenRealtimeSessionIsClosedWithGoingAwayAndDoesNotHoldTheShutdown() throws Exception {
        startAigate(fake -> Map.of(
                "AIGATE_BACKENDS_RT_URL", fake.realtimeUrl(),
                "AIGATE_BACKENDS_RT_CREDENTIAL", "none",
                "AIGATE_ROUTES_RT_DEPLOYMENTS", "gpt-realtime",
                "AIGATE_ROUTES_RT_BACKEND", "rt",
                "AIGATE_ROUTES_RT_OPERATIONS", "GET realtime",
                "AIGATE_AUDIT_LOG", "all"));
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            java.util.concurrent.BlockingQueue<String> messages = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.CompletableFuture<String> closed = new java.util.concurrent.CompletableFuture<>();
            io.vertx.core.http.WebSocket session = vertx.createWebSocketClient()
                    .connect(new io.vertx.core.http.WebSocketConnectOptions()
                            .setHost("127.0.0.1")
                            .setPort(packaged.port())
                            .setURI("/openai/realtime?api-version=2025-04-01-preview&deployment=gpt-realtime"))
                    .map(ws -> {
                        ws.textMessageHandler(messages::add);
                        ws.closeHandler(v -> closed.complete(ws.closeStatusCode() + " " + ws.closeReason()));
                        return ws;
                    })
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            String created = messages.poll(5, TimeUnit.SECONDS);
            assertTrue(created != null && created.contains("session.created"), String.valueOf(created));
            session.writeTextMessage("{\"type\":\"response.create\"}");
            String done;
            do {
                done = messages.poll(5, TimeUnit.SECONDS);
            } while (done != null && !done.contains("\"response.done\""));
            assertTrue(done != null, "the response before SIGTERM was relayed whole");

            long stopping = System.nanoTime();
            aigate.toHandle().destroy();
            // idle, the session is told at once that aigate goes away, so its client reconnects to another pod
            assertEquals("1001 aigate is shutting down", closed.get(5, TimeUnit.SECONDS));
            assertTrue(aigate.waitFor(10, TimeUnit.SECONDS), "a closed session must not hold the shutdown");
            assertTrue(System.nanoTime() - stopping < TimeUnit.SECONDS.toNanos(10));
            String output = packaged.output();
            assertTrue(output.contains("\"close_reason\":\"going_away\""), output);
            assertTrue(!output.contains("\tat "), "a clean shutdown logs no stack trace: " + output);
        } finally {
            vertx.close();
        }
    }

    private static Socket send(URI target, String body) throws Exception {
        Socket socket = new Socket(target.getHost(), target.getPort());
        write(socket, target, body);
        return socket;
    }

    private static void write(Socket socket, URI target, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + target.getRawPath() + "?" + target.getRawQuery() + " HTTP/1.1\r\nHost: aigate\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes);
        out.flush();
    }
}
