package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.aigate.testing.LogCapture;
import io.aigate.testing.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The Realtime API through the running sidecar, over real WebSockets on loopback: the upgrade judged as any request
 * (nothing reaches the backend after a no), aigate's own credential on the backend socket and none of the caller's,
 * frames relayed both ways within their bounds and closed with a code that says why, every {@code response.done}
 * counted exactly (audio apart), and a token limit admitting each {@code response.create}.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class RealtimeTest extends AigateTest {

    static final Vertx VERTX = Vertx.vertx();
    static final WebSocketClient CLIENT = VERTX.createWebSocketClient(
            new WebSocketClientOptions().setMaxFrameSize(4 << 20).setMaxMessageSize(4 << 20));
    static final String CLASSIC = "/openai/realtime?api-version=2025-04-01-preview&deployment=";

    @AfterAll
    static void close() {
        VERTX.close();
    }

    /** One session as a client sees it: every text message, and how it closed. */
    record Session(WebSocket socket, BlockingQueue<String> messages, CompletableFuture<Short> closed) {
        JsonObject next() throws InterruptedException {
            String m = messages.poll(5, TimeUnit.SECONDS);
            assertNotNull(m, "no message in 5 s");
            return new JsonObject(m);
        }

        /** The next message of this type, skipping others. */
        JsonObject until(String type) throws InterruptedException {
            for (int i = 0; i < 50; i++) {
                JsonObject m = next();
                if (type.equals(m.getString("type"))) {
                    return m;
                }
            }
            throw new AssertionError("no " + type);
        }

        void send(String text) {
            socket.writeTextMessage(text);
        }

        short closeCode() throws Exception {
            return closed.get(10, TimeUnit.SECONDS);
        }
    }

    Session open(String uri, List<String> subprotocols, String... headers) throws Exception {
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost("127.0.0.1")
                .setPort(base.getPort())
                .setURI(uri)
                .setSubProtocols(subprotocols);
        for (int i = 0; i + 1 < headers.length; i += 2) {
            options.addHeader(headers[i], headers[i + 1]);
        }
        BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        CompletableFuture<Short> closed = new CompletableFuture<>();
        WebSocket socket = CLIENT.connect(options)
                .map(ws -> {
                    ws.textMessageHandler(messages::add);
                    ws.closeHandler(v -> closed.complete(ws.closeStatusCode()));
                    return ws;
                })
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        return new Session(socket, messages, closed);
    }

    Session open(String deployment) throws Exception {
        return open(CLASSIC + deployment, List.of(), "Ocp-Apim-Subscription-Key", CloudDoubles.key);
    }

    /** The handshake as a raw request, so aigate's refusal is read whole. */
    String handshake(String target, String... headerLines) throws Exception {
        StringBuilder request = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
        for (String line : headerLines) {
            request.append(line).append("\r\n");
        }
        return RawHttp.exchange(base.getPort(), request.append("\r\n").toString());
    }

    /** A new subscription's key with a token limit of its own. */
    static String limitedKey(String name, int tokensPerMinute) {
        return Keys.ok(
                        CloudDoubles.redis.url(),
                        "create",
                        "--name",
                        name,
                        "--tokens-per-minute",
                        Integer.toString(tokensPerMinute))
                .key("Primary");
    }

    /** A session on {@code deployment} with {@code key}, once the backend said hello (its handshake read). */
    Session greeted(String deployment, String key) throws Exception {
        Session session = open(CLASSIC + deployment, List.of(), "Ocp-Apim-Subscription-Key", key);
        session.until("session.created");
        CloudDoubles.openAi.next(5);
        return session;
    }

    /** One response of the fake's (10 reserved, 27 used), through to its response.done. */
    static void oneResponse(Session session) throws InterruptedException {
        session.send("{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":10}}");
        session.until("response.done");
        eventAtBackend("response.create");
    }

    static void refusedWith(String answer, int status, String message) {
        assertEquals(status, RawHttp.status(answer), answer);
        JsonObject body = new JsonObject(RawHttp.body(answer));
        assertEquals(status, body.getInteger("statusCode"), answer);
        assertEquals(message, body.getString("message"), answer);
    }

    @Test
    void anUpgradeIsJudgedAsAnyRequestAndARefusalNeverReachesTheBackend() throws Exception {
        refusedWith(
                handshake(CLASSIC + "gpt-realtime"),
                401,
                "Access denied due to missing subscription key. Make sure to include subscription key when making "
                        + "requests to an API.");
        refusedWith(
                handshake(CLASSIC + "gpt-realtime", "Ocp-Apim-Subscription-Key: aig_not-a-key"),
                401,
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active "
                        + "subscription.");
        // the subscription key in the query form APIM accepts is as good as the header
        String key = "&subscription-key=" + CloudDoubles.key;
        // a route that does not grant the session is as absent as a deployment it does not serve
        refusedWith(handshake(CLASSIC + "gpt-4o" + key), 404, "Resource not found");
        refusedWith(handshake(CLASSIC + "gpt-rt-roles" + key), 401, "JWT not present.");
        refusedWith(
                handshake("/openai/realtime?deployment=gpt-realtime&deployment=gpt-4o" + key),
                400,
                RequestRefusal.REALTIME_DEPLOYMENT.message());
        backendUntouched("a refused upgrade");
        // accepted in the query form, and the key never reaches the backend
        Session session = open(CLASSIC + "gpt-realtime" + key, List.of());
        assertEquals("session.created", session.next().getString("type"));
        FakeAzureOpenAi.Received handshake = CloudDoubles.openAi.next(5);
        assertFalse(handshake.query().contains("subscription-key"), handshake.query());
        session.socket().close();
        assertEquals((short) 1000, session.closeCode());
    }

    @Test
    void theBackendSocketCarriesAigatesCredentialAndNoneOfTheCallers() throws Exception {
        Session session = open(
                "/openai/v1/realtime?model=gpt-realtime&api-key=caller-secret",
                List.of("realtime", "openai-insecure-api-key.caller-secret"),
                "Authorization",
                "Bearer " + CloudDoubles.key);
        assertEquals("realtime", session.socket().subProtocol());
        assertEquals("session.created", session.next().getString("type"));
        FakeAzureOpenAi.Received handshake = CloudDoubles.openAi.next(5);
        assertEquals("/openai/v1/realtime", handshake.path());
        assertEquals("model=gpt-realtime", handshake.query());
        String authorization = handshake.header("authorization");
        assertNotNull(authorization, "aigate's managed-identity token");
        assertFalse(authorization.contains(CloudDoubles.key), authorization);
        assertNull(handshake.header("api-key"));
        assertNull(handshake.header("ocp-apim-subscription-key"));
        assertNull(handshake.header("sec-websocket-protocol"), "no caller subprotocol reaches the backend");
        handshake
                .headers()
                .values()
                .forEach(values -> values.forEach(v -> assertFalse(v.contains("caller-secret"), v)));
        session.socket().close();
        session.closeCode();
    }

    @Test
    void responsesAreRelayedAndTheirUsageCountedExactlyAudioApart() throws Exception {
        String labels = "backend=\"realtime\",deployment=\"gpt-realtime\",route=\"realtime\",source=\"reported\","
                + "subscription=\"test-suite\",type=\"%s\"";
        double totalBefore = metric("aigate_tokens_total", labels.formatted("total"));
        double audioInBefore = metric("aigate_tokens_total", labels.formatted("input_audio"));
        double audioOutBefore = metric("aigate_tokens_total", labels.formatted("output_audio"));
        try (LogCapture logs = LogCapture.start()) {
            Session session = open(
                    CLASSIC + "gpt-realtime",
                    List.of(),
                    "Ocp-Apim-Subscription-Key",
                    CloudDoubles.key,
                    "x-ms-client-request-id",
                    "realtime-usage-1");
            session.until("session.created");
            for (int i = 0; i < 2; i++) {
                session.send("{\"type\":\"response.create\",\"event_id\":\"c" + i + "\"}");
                assertEquals(
                        "response.created", session.until("response.created").getString("type"));
                StringBuilder text = new StringBuilder();
                JsonObject m;
                while (!(m = session.next()).getString("type").equals("response.done")) {
                    if (m.getString("type").equals("response.output_text.delta")) {
                        text.append(m.getString("delta"));
                    }
                }
                assertEquals(String.join("", FakeAzureOpenAi.WORDS), text.toString());
                assertEquals(
                        FakeAzureOpenAi.RT_TOTAL,
                        m.getJsonObject("response").getJsonObject("usage").getInteger("total_tokens"));
            }
            assertEquals("{\"type\":\"response.create\",\"event_id\":\"c0\"}", eventAtBackend("response.create"));
            session.socket().close();
            assertEquals((short) 1000, session.closeCode());
            JsonObject line = Await.value(
                    "the session's audit line", Duration.ofSeconds(5), () -> logs.auditLine("realtime-usage-1"));
            assertEquals(101, line.getInteger("status"), line.encode());
            assertEquals(2, line.getInteger("realtime_responses"), line.encode());
            assertEquals(
                    2L * (FakeAzureOpenAi.RT_INPUT_TEXT + FakeAzureOpenAi.RT_INPUT_AUDIO),
                    line.getLong("prompt_tokens"));
            assertEquals(2L * FakeAzureOpenAi.RT_INPUT_AUDIO, line.getLong("input_audio_tokens"));
            assertEquals(2L * FakeAzureOpenAi.RT_OUTPUT_AUDIO, line.getLong("output_audio_tokens"));
            assertEquals(1000, line.getInteger("close_code"));
            assertEquals("caller", line.getString("closed_by"));
            assertEquals(
                    1,
                    logs.lines().stream()
                            .filter(l -> l.contains("realtime-usage-1"))
                            .count(),
                    "one line per session");
        }
        assertEquals(
                totalBefore + 2 * FakeAzureOpenAi.RT_TOTAL, metric("aigate_tokens_total", labels.formatted("total")));
        assertEquals(
                audioInBefore + 2 * FakeAzureOpenAi.RT_INPUT_AUDIO,
                metric("aigate_tokens_total", labels.formatted("input_audio")));
        assertEquals(
                audioOutBefore + 2 * FakeAzureOpenAi.RT_OUTPUT_AUDIO,
                metric("aigate_tokens_total", labels.formatted("output_audio")));
    }

    /** The next client event of this type the backend received. */
    static String eventAtBackend(String type) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            String event = CloudDoubles.openAi.nextRealtimeEvent(5);
            assertNotNull(event, "no " + type + " at the backend");
            if (new JsonObject(event).getString("type").equals(type)) {
                return event;
            }
        }
        throw new AssertionError("no " + type + " at the backend");
    }

    @Test
    void whatACallerCannotSayIsClosedWithACodeThatSaysWhy() throws Exception {
        Session binary = open("gpt-realtime");
        binary.until("session.created");
        binary.socket().writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3}));
        assertEquals((short) 1003, binary.closeCode());

        Session notJson = open("gpt-realtime");
        notJson.until("session.created");
        notJson.send("not json");
        assertEquals((short) 1007, notJson.closeCode());

        Session twice = open("gpt-realtime");
        twice.until("session.created");
        twice.send("{\"type\":\"session.update\",\"type\":\"response.create\"}");
        assertEquals((short) 1007, twice.closeCode());

        Session huge = open("gpt-realtime");
        huge.until("session.created");
        // frames each within bounds, one message over max-message-size: nothing of it is forwarded
        huge.socket().writeFrame(io.vertx.core.http.WebSocketFrame.textFrame("{\"type\":\"x\",\"a\":\"", false));
        String chunk = "a".repeat(200 * 1024);
        for (int i = 0; i < 6; i++) {
            huge.socket().writeFrame(io.vertx.core.http.WebSocketFrame.continuationFrame(Buffer.buffer(chunk), false));
        }
        huge.socket().writeFrame(io.vertx.core.http.WebSocketFrame.continuationFrame(Buffer.buffer("\"}"), true));
        assertEquals((short) 1009, huge.closeCode());

        // another model: not forwarded, the caller told, the session goes on
        Session other = open("gpt-realtime");
        other.until("session.created");
        other.send("{\"type\":\"session.update\",\"event_id\":\"u1\",\"session\":{\"model\":\"gpt-4o\"}}");
        JsonObject error = other.until("error");
        assertEquals("model_not_allowed", error.getJsonObject("error").getString("code"));
        assertEquals("u1", error.getJsonObject("error").getString("event_id"));
        other.send("{\"type\":\"session.update\",\"session\":{\"model\":\"GPT-Realtime\"}}");
        other.until("session.updated");
        String atBackend = eventAtBackend("session.update");
        assertTrue(atBackend.contains("GPT-Realtime"), "only the update for its own deployment: " + atBackend);
        other.socket().close();
        other.closeCode();
    }

    @Test
    void whatABackendDoesWrongIsBoundedToo() throws Exception {
        // a frame over the bound from the backend: the caller gets 1011, never the frame
        Session huge = open("gpt-rt-huge");
        huge.until("session.created");
        huge.send("{\"type\":\"response.create\"}");
        assertEquals((short) 1011, huge.closeCode());
        Await.until("the backend socket closed", Duration.ofSeconds(5), () -> CloudDoubles.openAi.realtimeOpen() == 0);

        // silence both ways: closed after idle-timeout (2 s in the suite)
        Session silent = open("gpt-rt-silent");
        long started = System.nanoTime();
        assertEquals((short) 1001, silent.closeCode());
        assertTrue(System.nanoTime() - started >= 1_500_000_000L, "not before the idle timeout");

        // the backend refuses the handshake: the caller gets JSON, not a socket
        ExecutionException refused =
                org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> open("gpt-rt-refuse"));
        assertTrue(refused.getCause() instanceof UpgradeRejectedException, refused.toString());
        assertEquals(502, ((UpgradeRejectedException) refused.getCause()).getStatus());

        // a usage that cannot be believed is not counted as if it were
        Session lies = open("gpt-rt-lies");
        lies.until("session.created");
        double unmeasured = metric(
                "aigate_tokens_unmeasured_total", "backend=\"realtime\",route=\"realtime\",why=\"realtime_no_usage\"");
        lies.send("{\"type\":\"response.create\"}");
        lies.until("response.done");
        Await.until(
                "the response counted as unmeasured",
                Duration.ofSeconds(5),
                () -> metric(
                                "aigate_tokens_unmeasured_total",
                                "backend=\"realtime\",route=\"realtime\",why=\"realtime_no_usage\"")
                        == unmeasured + 1);
        lies.socket().close();
        lies.closeCode();
    }

    @Test
    void aTokenLimitAdmitsEachResponseCreateAndClosesWhenRefusalsPersist() throws Exception {
        String key = Keys.ok(CloudDoubles.redis.url(), "create", "--name", "rt-limited", "--tokens-per-minute", "40")
                .key("Primary");
        Session session = open(CLASSIC + "gpt-realtime", List.of(), "Ocp-Apim-Subscription-Key", key);
        session.until("session.created");
        String create = "{\"type\":\"response.create\",\"event_id\":\"c%d\",\"response\":{\"max_output_tokens\":10}}";
        // 10 reserved, 27 used: the budget of 40 has 13 left, and the next response reserves 20 + 10
        session.send(create.formatted(0));
        session.until("response.done");
        eventAtBackend("response.create");
        for (int i = 1; i <= 3; i++) {
            session.send(create.formatted(i));
            JsonObject error = session.until("error").getJsonObject("error");
            assertEquals("token_limit", error.getString("code"), error.encode());
            assertEquals("c" + i, error.getString("event_id"));
            assertTrue(error.getString("message").startsWith("Token limit is exceeded. Try again in "), error.encode());
        }
        assertEquals((short) 1013, session.closeCode());
        assertNull(CloudDoubles.openAi.nextRealtimeEvent(1), "no refused response.create reached the backend");
    }

    @Test
    void aSpentBudgetRefusesTheUpgradeBeforeTheBackendIsAsked() throws Exception {
        String key = limitedKey("rt-spent", 20);
        Session session = greeted("gpt-realtime", key);
        // 10 reserved, 27 used: more than the minute's 20
        oneResponse(session);
        session.socket().close();
        assertEquals((short) 1000, session.closeCode());
        // the next handshake may land on another event loop, which the settlement reaches within 50 ms
        Thread.sleep(500);
        String answer = handshake(CLASSIC + "gpt-realtime", "Ocp-Apim-Subscription-Key: " + key);
        assertEquals(429, RawHttp.status(answer), answer);
        JsonObject body = new JsonObject(RawHttp.body(answer));
        assertTrue(body.getString("message").startsWith("Token limit is exceeded. Try again in "), answer);
        assertTrue(answer.toLowerCase(java.util.Locale.ROOT).contains("\r\nretry-after: "), answer);
        backendUntouched("an upgrade over its budget");
    }

    @Test
    void aHandshakeNoMemberBeganGoesOnToTheNext() throws Exception {
        Session session = open("gpt-rt-pooled");
        assertEquals("session.created", session.until("session.created").getString("type"));
        FakeAzureOpenAi.Received handshake = CloudDoubles.openAi.next(5);
        assertTrue(handshake.query().contains("deployment=gpt-rt-pooled"), handshake.query());
        // the second member's own credential, not the first one's absence of one
        assertTrue(handshake.header("authorization").startsWith("Bearer fake-entra."), handshake.toString());
        session.socket().close();
        assertEquals((short) 1000, session.closeCode());
    }

    @Test
    void aSessionWhoseTokenHoldsTheRouteClaimsIsRelayedWithoutIt() throws Exception {
        org.jose4j.jwt.JwtClaims wrongRole =
                io.aigate.sandbox.FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "client-app");
        wrongRole.setStringListClaim("roles", "Chat.Use");
        String refused = handshake(
                CLASSIC + "gpt-rt-roles",
                "Ocp-Apim-Subscription-Key: " + CloudDoubles.key,
                "Authorization: Bearer " + io.aigate.sandbox.FakeEntraId.mint(CloudDoubles.signingKey, wrongRole));
        assertEquals(403, RawHttp.status(refused), refused);
        backendUntouched("a token without the route's role");
        org.jose4j.jwt.JwtClaims claims =
                io.aigate.sandbox.FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "client-app");
        claims.setStringListClaim("roles", "Realtime.Use");
        String token = io.aigate.sandbox.FakeEntraId.mint(CloudDoubles.signingKey, claims);
        Session session = open(
                CLASSIC + "gpt-rt-roles",
                List.of(),
                "Ocp-Apim-Subscription-Key",
                CloudDoubles.key,
                "Authorization",
                "Bearer " + token);
        assertEquals("session.created", session.until("session.created").getString("type"));
        FakeAzureOpenAi.Received handshake = CloudDoubles.openAi.next(5);
        assertFalse(handshake.toString().contains(token), "the caller's token never reaches the backend");
        assertTrue(CloudDoubles.entra.isValidBearer(handshake.header("authorization")), "aigate's own token");
        session.socket().close();
        assertEquals((short) 1000, session.closeCode());
    }

    @Test
    void aCallerThatStopsReadingStopsTheBackendNotAigatesMemory() throws Exception {
        Session session = open("gpt-rt-flood");
        session.until("session.created");
        session.socket().pause(); // the caller reads nothing more
        session.send("{\"type\":\"response.create\"}");
        long total = (long) FakeAzureOpenAi.FLOOD_MESSAGES * FakeAzureOpenAi.FLOOD_MESSAGE_BYTES;
        // the backend gets as far as the sockets' buffers and one write queue per side take, then waits
        Await.until("the backend is writing", Duration.ofSeconds(5), () -> CloudDoubles.openAi.realtimeFlooded() > 0);
        Thread.sleep(800); // well within the test's idle-timeout (2 s): a session silent both ways is closed
        long stalled = CloudDoubles.openAi.realtimeFlooded();
        assertTrue(
                stalled < total / 3, "a stalled caller let the backend write " + stalled + " of " + total + " bytes");
        assertEquals("{\"type\":\"response.create\"}", eventAtBackend("response.create"));
        // nor is the caller read while its own queue is full: what it says (and aigate's answers to it) waits
        session.send("{\"type\":\"input_audio_buffer.clear\",\"event_id\":\"held\"}");
        Thread.sleep(400);
        assertEquals(stalled, CloudDoubles.openAi.realtimeFlooded(), "the backend stays held while the caller is");
        assertNull(CloudDoubles.openAi.nextRealtimeEvent(0), "a caller whose queue is full is not read");
        // the caller reads again: everything comes, in order, and the session is counted as usual
        session.socket().resume();
        long deltas = 0;
        while (true) {
            JsonObject m = session.next();
            if ("response.done".equals(m.getString("type"))) {
                break;
            }
            if ("response.output_audio.delta".equals(m.getString("type"))) {
                deltas++;
            }
        }
        assertEquals(FakeAzureOpenAi.FLOOD_MESSAGES, deltas);
        assertEquals(total, CloudDoubles.openAi.realtimeFlooded());
        assertTrue(eventAtBackend("input_audio_buffer.clear").contains("held"));
        session.socket().close();
        assertEquals((short) 1000, session.closeCode());
    }

    @Test
    void aCallerWhoLeavesMidResponseIsChargedWhatTheBackendReports() throws Exception {
        String key = limitedKey("rt-leaver", 20);
        try (LogCapture logs = LogCapture.start()) {
            Session session = open(
                    CLASSIC + "gpt-rt-slow",
                    List.of(),
                    "Ocp-Apim-Subscription-Key",
                    key,
                    "x-ms-client-request-id",
                    "realtime-leaver");
            session.until("session.created");
            CloudDoubles.openAi.next(5);
            // 1 reserved; the response runs until it is cancelled, and then reports 27 used
            session.send("{\"type\":\"response.create\",\"response\":{\"max_output_tokens\":1}}");
            session.until("response.created");
            eventAtBackend("response.create");
            session.socket().close();
            assertEquals((short) 1000, session.closeCode());
            // aigate cancels what was in flight and reads what the cancelled response used
            assertTrue(eventAtBackend("response.cancel").contains("resp_"));
            JsonObject line = Await.value(
                    "the session's audit line", Duration.ofSeconds(5), () -> logs.auditLine("realtime-leaver"));
            assertEquals(1, line.getInteger("realtime_responses"), line.encode());
            assertEquals(
                    FakeAzureOpenAi.RT_OUTPUT_TEXT + FakeAzureOpenAi.RT_OUTPUT_AUDIO,
                    line.getLong("completion_tokens"));
        }
        Thread.sleep(500); // the settlement reaches another event loop within 50 ms
        String answer = handshake(CLASSIC + "gpt-realtime", "Ocp-Apim-Subscription-Key: " + key);
        assertEquals(429, RawHttp.status(answer), "the 27 tokens used were charged, not the 1 reserved: " + answer);
        backendUntouched("an upgrade over its budget");
    }

    @Test
    void whatTheCallerAddsIsReservedBeforeAResponseReadsIt() throws Exception {
        String key = limitedKey("rt-adder", 1000);
        Session session = greeted("gpt-realtime", key);
        // a first response (27 used) leaves the bucket not empty (one larger than the whole bucket waits for an
        // empty one); then some 2,000 tokens of text join the conversation: more than the minute's 1,000
        oneResponse(session);
        String text = "word ".repeat(1600);
        session.send("{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\",\"role\":\"user\","
                + "\"content\":[{\"type\":\"input_text\",\"text\":\"" + text + "\"}]}}");
        eventAtBackend("conversation.item.create");
        session.send("{\"type\":\"response.create\",\"event_id\":\"big\",\"response\":{\"max_output_tokens\":1}}");
        JsonObject error = session.until("error").getJsonObject("error");
        assertEquals("token_limit", error.getString("code"), error.encode());
        assertEquals("big", error.getString("event_id"));
        assertNull(CloudDoubles.openAi.nextRealtimeEvent(1), "the response.create was not forwarded");
        session.socket().close();
        session.closeCode();
    }

    @Test
    void aModelAtAnyDepthOrAQueryAigateDidNotJudgeIsRefused() throws Exception {
        Session session = open("gpt-realtime");
        session.until("session.created");
        CloudDoubles.openAi.next(5);
        for (String update : List.of(
                "{\"input_audio_transcription\":{\"model\":\"gpt-4o\"}}",
                "{\"audio\":{\"input\":{\"transcription\":{\"model\":\"whisper\"}}}}",
                "{\"tools\":[{\"type\":\"x\",\"model\":\"gpt-4o\"}]}")) {
            session.send("{\"type\":\"session.update\",\"event_id\":\"u\",\"session\":" + update + "}");
            JsonObject error = session.until("error").getJsonObject("error");
            assertEquals("model_not_allowed", error.getString("code"), update);
        }
        session.send("{\"type\":\"transcription_session.update\",\"session\":{\"input_audio_transcription\":"
                + "{\"model\":\"whisper\"}}}");
        assertEquals(
                "model_not_allowed",
                session.until("error").getJsonObject("error").getString("code"));
        assertNull(CloudDoubles.openAi.nextRealtimeEvent(1), "no event naming another model reached the backend");
        session.socket().close();
        session.closeCode();

        String message = "A Realtime session's query takes api-version and its deployment (deployment=, or model= on"
                + " the v1 API) only; any other parameter is refused, not forwarded.";
        for (String target : List.of(
                CLASSIC + "gpt-realtime&intent=transcription",
                CLASSIC + "gpt-realtime&model=gpt-4o",
                CLASSIC + "gpt-realtime&%6Dodel=gpt-4o",
                "/openai/v1/realtime?model=gpt-realtime&deployment=gpt-4o")) {
            refusedWith(handshake(target, "Ocp-Apim-Subscription-Key: " + CloudDoubles.key), 400, message);
        }
        backendUntouched("an upgrade with a query aigate did not judge");
    }
}
