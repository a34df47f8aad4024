package io.aigate.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for Azure OpenAI on loopback, over real HTTP. Answers chat completions as JSON, or as an SSE stream when
 * the body asks for {@code "stream": true}, and records every request it receives (method, path, query, headers, body)
 * so tests can see exactly what aigate forwarded. A few deployment names trigger faults:
 * {@code gpt-slow} (answers after {@link #slowMillis}), {@code gpt-stall} (one event, then silence),
 * {@code gpt-flood} (a stream of 64 MB, as fast as it is read), {@code throttled} (Azure's own 429).
 */
public final class FakeAzureOpenAi implements AutoCloseable {

    private static final Pattern DEPLOYMENT = Pattern.compile("^/openai/deployments/([^/]+)/");
    private static final Pattern MODEL = Pattern.compile("\"model\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern STREAM = Pattern.compile("\"stream\"\\s*:\\s*true");
    private static final Pattern INCLUDE_USAGE = Pattern.compile("\"include_usage\"\\s*:\\s*true");
    public static final String[] WORDS = {"Hello", " from", " the", " fake", " Azure", " OpenAI", "."};

    /** One request as the backend saw it. Header names are lower-case. */
    public record Received(String method, String path, String query, Map<String, List<String>> headers, String body) {
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }
    }

    /**
     * An answer a test orders: a status with its headers (and Azure's error body), after a delay; a 200 is the usual
     * answer, after the delay. An error body may stall halfway for {@code stallMillis} before the connection closes.
     */
    public record Scripted(int status, Map<String, String> headers, long delayMillis, long stallMillis) {
        public static Scripted status(int status, String... headerPairs) {
            Map<String, String> headers = new TreeMap<>();
            for (int i = 0; i + 1 < headerPairs.length; i += 2) {
                headers.put(headerPairs[i], headerPairs[i + 1]);
            }
            return new Scripted(status, headers, 0, 0);
        }

        public static Scripted slow(long delayMillis) {
            return new Scripted(200, Map.of(), delayMillis, 0);
        }

        /** This error's body stops halfway, for so long, and is never finished. */
        public Scripted stalling(long millis) {
            return new Scripted(status, headers, delayMillis, millis);
        }
    }

    private final HttpServer server;
    /** The Realtime API's WebSocket, on a port of its own (the JDK's server cannot upgrade a connection). */
    private io.vertx.core.Vertx vertx;

    private io.vertx.core.http.HttpServer realtime;
    private final BlockingQueue<String> realtimeEvents = new LinkedBlockingQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger responseIds =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger realtimeOpen =
            new java.util.concurrent.atomic.AtomicInteger();
    /** The usage every realtime response.done reports: input (text, audio, cached), output (text, audio). */
    public static final int RT_INPUT_TEXT = 12;

    public static final int RT_INPUT_AUDIO = 8;
    public static final int RT_CACHED = 4;
    public static final int RT_OUTPUT_TEXT = 3;
    public static final int RT_OUTPUT_AUDIO = 4;
    public static final int RT_TOTAL = RT_INPUT_TEXT + RT_INPUT_AUDIO + RT_OUTPUT_TEXT + RT_OUTPUT_AUDIO;
    private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final java.util.Queue<Scripted> scripted = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Scripted always;
    private volatile String name = "aoai";
    private volatile long slowMillis = 3000;
    private volatile long eventDelayMillis;
    private volatile CountDownLatch holdAfterFirstEvent;
    private volatile boolean holding;

    private FakeAzureOpenAi(HttpServer server) {
        this.server = server;
    }

    public static FakeAzureOpenAi start(int port) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
            FakeAzureOpenAi fake = new FakeAzureOpenAi(server);
            server.createContext("/", fake::handle);
            server.setExecutor(Executors.newCachedThreadPool(FakeEntraId.daemon("fake-aoai")));
            server.start();
            fake.startRealtime(port == 0 ? 0 : port + 1);
            return fake;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the fake Azure OpenAI on port " + port, e);
        }
    }

    /**
     * The Realtime API as Azure OpenAI speaks it over a real WebSocket: {@code session.created} on connect;
     * {@code session.update} → {@code session.updated}; {@code response.create}, and {@code input_audio_buffer.commit}
     * (a response the server begins itself, as voice activity detection does) → {@code response.created}, text and
     * audio deltas, {@code response.done} with the usage of {@link #RT_TOTAL}. The handshake is recorded as a request;
     * every client event in {@link #nextRealtimeEvent}. Deployments (query {@code deployment} or {@code model}) that
     * fault: {@code gpt-rt-refuse} (429 at the handshake), {@code gpt-rt-silent} (never says anything),
     * {@code gpt-rt-huge} (a 2 MB delta), {@code gpt-rt-lies} (a negative usage), {@code gpt-rt-slow} (a response
     * that runs until {@code response.cancel}, whose {@code response.done} reports its usage), {@code gpt-rt-flood} (64 MB of audio
     * deltas, written only as fast as the socket takes them: {@link #realtimeFlooded} says how far it got).
     */
    private void startRealtime(int port) {
        vertx = io.vertx.core.Vertx.vertx();
        realtime = vertx.createHttpServer(new io.vertx.core.http.HttpServerOptions()
                        .setHost("127.0.0.1")
                        .setMaxWebSocketFrameSize(16 << 20)
                        .setMaxWebSocketMessageSize(16 << 20))
                // the request handler upgrades: with webSocketHandler, a fake started after others in the same
                // test JVM passed every upgrade to the request handler (the suite saw only 426s)
                .requestHandler(this::session);
        try {
            realtime.listen(port).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the fake Azure OpenAI's realtime port " + port, e);
        }
    }

    public String realtimeUrl() {
        return "http://127.0.0.1:" + realtime.actualPort();
    }

    /** The next client event a realtime session received, waiting up to {@code seconds}; null if none came. */
    public String nextRealtimeEvent(long seconds) throws InterruptedException {
        return realtimeEvents.poll(seconds, TimeUnit.SECONDS);
    }

    /** Realtime sessions open at the backend right now. */
    public int realtimeOpen() {
        return realtimeOpen.get();
    }

    private void session(io.vertx.core.http.HttpServerRequest request) {
        if (!request.headers().contains("upgrade", "websocket", true)) {
            request.response().setStatusCode(426).end();
            return;
        }
        Map<String, List<String>> headers = new TreeMap<>();
        request.headers()
                .forEach((k, v) -> headers.computeIfAbsent(k.toLowerCase(Locale.ROOT), x -> new java.util.ArrayList<>())
                        .add(v));
        String query = request.query();
        received.add(new Received("GET", request.path(), query, headers, ""));
        served.incrementAndGet();
        String deployment = queryValue(query, "deployment");
        if (deployment == null) {
            deployment = queryValue(query, "model");
        }
        String model = deployment == null ? "unknown" : deployment;
        if (model.equals("gpt-rt-refuse")) {
            request.response().setStatusCode(429).end();
            return;
        }
        request.toWebSocket().onSuccess(ws -> relay(ws, model));
    }

    private void relay(io.vertx.core.http.ServerWebSocket ws, String model) {
        realtimeOpen.incrementAndGet();
        ws.closeHandler(v -> realtimeOpen.decrementAndGet());
        if (model.equals("gpt-rt-silent")) {
            ws.textMessageHandler(realtimeEvents::add);
            return;
        }
        ws.writeTextMessage("{\"type\":\"session.created\",\"event_id\":\"evt_0\",\"session\":{\"id\":\"sess_fake\","
                + "\"object\":\"realtime.session\",\"model\":\"" + model + "\"}}");
        ws.textMessageHandler(text -> {
            realtimeEvents.add(text);
            io.vertx.core.json.JsonObject event;
            try {
                event = new io.vertx.core.json.JsonObject(text);
            } catch (RuntimeException e) {
                ws.close((short) 1007);
                return;
            }
            switch (String.valueOf(event.getValue("type"))) {
                case "session.update" ->
                    ws.writeTextMessage(
                            "{\"type\":\"session.updated\",\"event_id\":\"evt_u\",\"session\":{\"id\":\"sess_fake\"}}");
                case "response.create", "input_audio_buffer.commit" -> {
                    if (model.equals("gpt-rt-slow")) {
                        begin(ws, "resp_" + responseIds.incrementAndGet());
                    } else {
                        respond(ws, model);
                    }
                }
                case "response.cancel" -> {
                    // a cancelled response reports what it used so far, as the API's response.done does
                    String id = String.valueOf(event.getValue("response_id"));
                    ws.writeTextMessage("{\"type\":\"response.done\",\"event_id\":\"evt_x\",\"response\":{\"id\":\""
                            + id + "\",\"object\":\"realtime.response\",\"status\":\"cancelled\",\"usage\":"
                            + "{\"total_tokens\":" + RT_TOTAL + ",\"input_tokens\":" + (RT_INPUT_TEXT + RT_INPUT_AUDIO)
                            + ",\"output_tokens\":" + (RT_OUTPUT_TEXT + RT_OUTPUT_AUDIO) + "}}}");
                }
                default -> {}
            }
        });
    }

    /** Bytes of audio deltas a {@code gpt-rt-flood} response has got its socket to take so far. */
    public long realtimeFlooded() {
        return flooded.get();
    }

    private final java.util.concurrent.atomic.AtomicLong flooded = new java.util.concurrent.atomic.AtomicLong();

    public static final int FLOOD_MESSAGES = 1024;
    public static final int FLOOD_MESSAGE_BYTES = 64 * 1024;

    /** One delta after another, each only once the socket's write queue has room: a backend that respects TCP. */
    private void flood(io.vertx.core.http.ServerWebSocket ws, String id, int left) {
        if (left == 0) {
            ws.writeTextMessage("{\"type\":\"response.done\",\"event_id\":\"evt_e\",\"response\":{\"id\":\"" + id
                    + "\",\"object\":\"realtime.response\",\"status\":\"completed\"}}");
            return;
        }
        if (ws.isClosed()) {
            return;
        }
        if (ws.writeQueueFull()) {
            ws.drainHandler(v -> flood(ws, id, left));
            return;
        }
        String message = "{\"type\":\"response.output_audio.delta\",\"response_id\":\"" + id + "\",\"delta\":\"";
        message += "A".repeat(FLOOD_MESSAGE_BYTES - message.length() - 2) + "\"}";
        ws.writeTextMessage(message);
        flooded.addAndGet(message.length());
        vertx.runOnContext(v -> flood(ws, id, left - 1));
    }

    /** A response that begins and goes on until it is cancelled ({@code gpt-rt-slow}). */
    private static void begin(io.vertx.core.http.ServerWebSocket ws, String id) {
        ws.writeTextMessage("{\"type\":\"response.created\",\"event_id\":\"evt_c\",\"response\":{\"id\":\"" + id
                + "\",\"object\":\"realtime.response\",\"status\":\"in_progress\"}}");
    }

    private void respond(io.vertx.core.http.ServerWebSocket ws, String model) {
        String id = "resp_" + responseIds.incrementAndGet();
        if (model.equals("gpt-rt-flood")) {
            ws.writeTextMessage("{\"type\":\"response.created\",\"event_id\":\"evt_c\",\"response\":{\"id\":\"" + id
                    + "\",\"object\":\"realtime.response\",\"status\":\"in_progress\"}}");
            ws.setWriteQueueMaxSize(256 * 1024);
            flood(ws, id, FLOOD_MESSAGES);
            return;
        }
        ws.writeTextMessage("{\"type\":\"response.created\",\"event_id\":\"evt_c\",\"response\":{\"id\":\"" + id
                + "\",\"object\":\"realtime.response\",\"status\":\"in_progress\"}}");
        for (String word : WORDS) {
            ws.writeTextMessage("{\"type\":\"response.output_text.delta\",\"event_id\":\"evt_d\",\"response_id\":\""
                    + id + "\",\"delta\":\"" + word + "\"}");
        }
        String audio = model.equals("gpt-rt-huge") ? "A".repeat(2 << 20) : "AAAAAAAA";
        ws.writeTextMessage("{\"type\":\"response.output_audio.delta\",\"event_id\":\"evt_a\",\"response_id\":\"" + id
                + "\",\"delta\":\"" + audio + "\"}");
        String usage = model.equals("gpt-rt-lies")
                ? "{\"input_tokens\":-5,\"output_tokens\":1,\"total_tokens\":-4}"
                : "{\"total_tokens\":" + RT_TOTAL + ",\"input_tokens\":" + (RT_INPUT_TEXT + RT_INPUT_AUDIO)
                        + ",\"output_tokens\":" + (RT_OUTPUT_TEXT + RT_OUTPUT_AUDIO)
                        + ",\"input_token_details\":{\"text_tokens\":" + RT_INPUT_TEXT + ",\"audio_tokens\":"
                        + RT_INPUT_AUDIO + ",\"cached_tokens\":" + RT_CACHED + "},\"output_token_details\":{"
                        + "\"text_tokens\":" + RT_OUTPUT_TEXT + ",\"audio_tokens\":" + RT_OUTPUT_AUDIO + "}}";
        ws.writeTextMessage("{\"type\":\"response.done\",\"event_id\":\"evt_e\",\"response\":{\"id\":\"" + id
                + "\",\"object\":\"realtime.response\",\"status\":\"completed\",\"usage\":" + usage + "}}");
    }

    private static String queryValue(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Names this backend in every answer ({@code x-served-by}), so a test sees which of several served. */
    public FakeAzureOpenAi named(String name) {
        this.name = name;
        return this;
    }

    /** The next requests get these answers, one each, in order; then the usual ones. */
    public void answerNext(Scripted... answers) {
        scripted.addAll(List.of(answers));
    }

    /** Every request gets this answer until {@link #clear()} (null: the usual answers again). */
    public void answerAlways(Scripted answer) {
        always = answer;
    }

    /** How many requests reached this backend since it started or was last cleared. */
    public int served() {
        return served.get();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    public void slowMillis(long millis) {
        slowMillis = millis;
    }

    /** Pause between two SSE events (the sandbox uses it so a stream is visible in a terminal). */
    public void eventDelayMillis(long millis) {
        eventDelayMillis = millis;
    }

    /** The next stream sends its first event, then waits for the latch before sending the rest. */
    public void holdStreamAfterFirstEvent(CountDownLatch latch) {
        holdAfterFirstEvent = latch;
    }

    /** True while a stream is held after its first event: the rest has not been sent yet. */
    public boolean holding() {
        return holding;
    }

    /** The next request received, waiting up to {@code seconds}; null if none came. */
    public Received next(long seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    /**
     * Forgets what was received so far and what any test asked of it (delays, held streams): each test starts from a
     * backend that behaves as configured, whatever the test before it did.
     */
    public void clear() {
        received.clear();
        realtimeEvents.clear();
        scripted.clear();
        always = null;
        served.set(0);
        slowMillis = 3000;
        eventDelayMillis = 0;
        holdAfterFirstEvent = null;
        holding = false;
    }

    public int pending() {
        return received.size();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, List<String>> headers = new TreeMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
            String path = exchange.getRequestURI().getRawPath();
            received.add(new Received(
                    exchange.getRequestMethod(), path, exchange.getRequestURI().getRawQuery(), headers, body));
            served.incrementAndGet();
            exchange.getResponseHeaders().set("x-served-by", name);
            // Azure's own ids for the request, which a gateway must pass on untouched
            exchange.getResponseHeaders()
                    .set("apim-request-id", java.util.UUID.randomUUID().toString());
            exchange.getResponseHeaders().set("x-request-id", "backend-" + served.get());
            Scripted order = scripted.poll();
            if (order == null) {
                order = always;
            }
            if (order != null) {
                sleep(order.delayMillis());
                if (order.status() != 200) {
                    order.headers()
                            .forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
                    String error = "{\"error\":{\"code\":\"" + order.status() + "\",\"message\":\"scripted\"}}";
                    if (order.stallMillis() > 0) {
                        byte[] bytes = error.getBytes(StandardCharsets.UTF_8);
                        exchange.sendResponseHeaders(order.status(), bytes.length);
                        exchange.getResponseBody().write(bytes, 0, bytes.length / 2);
                        exchange.getResponseBody().flush();
                        sleep(order.stallMillis());
                        return;
                    }
                    FakeEntraId.send(exchange, order.status(), error);
                    return;
                }
            }
            Matcher deployment = DEPLOYMENT.matcher(path);
            Matcher model = MODEL.matcher(body);
            String name = deployment.find() ? deployment.group(1) : model.find() ? model.group(1) : "unknown";
            switch (name) {
                case "gpt-slow" -> sleep(slowMillis);
                case "throttled" -> {
                    exchange.getResponseHeaders().set("Retry-After", "7");
                    exchange.getResponseHeaders().set("x-ms-region", "Sweden Central");
                    FakeEntraId.send(
                            exchange,
                            429,
                            "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the "
                                    + "ChatCompletions_Create Operation have exceeded the token rate limit.\"}}");
                    return;
                }
                default -> {}
            }
            if (name.equals("gpt-flood")) {
                flood(exchange);
            } else if (STREAM.matcher(body).find() || name.equals("gpt-stall")) {
                stream(exchange, name, INCLUDE_USAGE.matcher(body).find());
            } else {
                FakeEntraId.send(exchange, 200, completion(name));
            }
        }
    }

    private void stream(HttpExchange exchange, String model, boolean includeUsage) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        for (int i = 0; i < WORDS.length; i++) {
            event(
                    out,
                    "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                            + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + WORDS[i]
                            + "\"},\"finish_reason\":null}]"
                            + (includeUsage ? ",\"usage\":null" : "") + "}");
            if (i == 0) {
                if (model.equals("gpt-stall")) {
                    sleep(10_000);
                    return;
                }
                CountDownLatch hold = holdAfterFirstEvent;
                if (hold != null) {
                    holdAfterFirstEvent = null;
                    holding = true;
                    try {
                        hold.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        holding = false;
                    }
                }
            }
            sleep(eventDelayMillis);
        }
        event(
                out,
                "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                        + "\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]"
                        + (includeUsage ? ",\"usage\":null" : "") + "}");
        if (includeUsage) {
            event(
                    out,
                    "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"model\":\"" + model
                            + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":" + WORDS.length
                            + ",\"total_tokens\":" + (12 + WORDS.length) + "}}");
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void flood(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        String chunk = "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"content\":\"" + "x".repeat(16 * 1024) + "\"},\"finish_reason\":null}]}";
        for (int i = 0; i < 4096; i++) {
            event(out, chunk); // blocks while the reader is behind; fails once it is gone
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
    }

    private static void event(OutputStream out, String json) throws IOException {
        out.write(("data: " + json + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public static String completion(String model) {
        return "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1764000000,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
                + String.join("", WORDS) + "\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19}}";
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
        if (vertx != null) {
            vertx.close();
        }
    }
}
