package io.aigate.gateway;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.LimitRefusal;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.LlmTokenLimit;
import io.aigate.tokens.RealtimeUsage;
import io.aigate.tokens.Reservation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * One Realtime session, relayed both ways as whole messages, never more than one held per direction: each message is
 * bounded ({@code max-message-size}) and judged (the caller's) or read (the backend's) once, then written on; while the
 * other side's write queue is full, this side is not read (back-pressure each way, down to TCP), so a stalled side
 * holds at most one message and a write queue. Silence both ways ({@code idle-timeout}) and age
 * ({@code max-session-duration}) close it. Every {@code response.done} is counted exactly and settles its response's
 * reservation; with a token limit, each {@code response.create} is admitted first, and one the budget cannot take is
 * never forwarded: the caller gets a Realtime {@code error} event, and the session is closed once that persists. It
 * ends once, through {@link RequestLifecycle#end}. Touched on its event loop only.
 */
final class RealtimeSession {

    private static final Logger LOG = Logger.getLogger(RealtimeSession.class);

    /** Why aigate closed a session, as the WebSocket close code each side is sent (RFC 6455 §7.4.1). */
    enum Close {
        NORMAL(1000, "session closed"),
        IDLE(1001, "idle timeout"),
        GOING_AWAY(1001, "aigate is shutting down"),
        CALLER_GONE(1001, "the caller left"),
        PROTOCOL(1002, "frames out of order"),
        BINARY(1003, "the Realtime API takes JSON text messages only"),
        UNREADABLE(1007, "a message that is not one JSON object with one string type"),
        SESSION_LIMIT(1008, "session time limit"),
        TOO_LARGE(1009, "message too large"),
        BACKEND(1011, "the backend failed"),
        OVER_BUDGET(1013, "token limit exceeded"),
        SERVER_BUSY(1008, "too many responses in flight");

        final short code;
        final String reason;

        Close(int code, String reason) {
            this.code = (short) code;
            this.reason = reason;
        }
    }

    /** Responses one session may have in flight at once; a backend that starts more closes the session. */
    private static final int MAX_RESPONSES_IN_FLIGHT = 8;

    /**
     * After the caller is gone, how long the backend socket stays open to read the {@code response.done} of what was
     * in flight (each is cancelled at once, and a cancelled response reports what it used). Without it a caller could
     * leave as soon as a response began, and what the backend billed would never reach the budget.
     */
    private static final long SETTLE_MILLIS = 10_000;

    /**
     * Input a response will read beyond what the last one counted, estimated from the bytes the caller sent since:
     * text at four bytes a token; audio at one token per 1,024 base64 characters (10 tokens a second of 8 kHz G.711,
     * the densest format; 24 kHz PCM is six times sparser). An estimate only reserves: each response.done settles.
     */
    private static final int BYTES_PER_TEXT_TOKEN = 4;

    private static final int AUDIO_CHARS_PER_TOKEN = 1024;

    private final Realtime realtime;
    private final RequestLifecycle life;
    private final RequestContext ctx;
    private final ServerWebSocket caller;
    private final WebSocket backend;
    private final LlmTokenLimit.Session budget;
    private final LlmEmitTokenMetric tokens;
    private final Context context;
    private final Vertx vertx;
    private final long maxMessage;
    private final long idleNanos;
    private final int refusalsBeforeClose;

    private final Side fromCaller = new Side();
    private final Side fromBackend = new Side();

    /** Why each side is not read right now (a full write queue on the other side, an admission being decided). */
    private int callerHolds;

    private int backendHolds;

    /** A side's write queue is full, which holds (once) what feeds it until its drain. */
    private boolean callerFull;

    private boolean backendFull;

    /** Reserved for a response.create sent and not yet acknowledged by the backend's response.created. */
    private final ArrayDeque<Reservation> created = new ArrayDeque<>(2);
    /** Responses the backend started, by id: their reservations and when they began. */
    private final Map<String, InFlight> inFlight = new LinkedHashMap<>();

    private record InFlight(Reservation reservation, long startEpochNanos) {}

    private int refusedInARow;
    /** The conversation's size as the backend last counted it: the last response's input and output. */
    private long lastInputTokens;
    /** What the caller has added since that count (items, instructions, audio), estimated. */
    private long addedInputTokens;

    private long lastHeardNanos = System.nanoTime();
    private long idleTimer = -1;
    private long sessionTimer = -1;
    private long drainTimer = -1;
    /** aigate is shutting down: no response begins, and the session closes once those in flight are done. */
    private boolean draining;

    private boolean over;
    /** Over, but the backend is still read for the usage of what was in flight ({@link #SETTLE_MILLIS}). */
    private boolean settling;

    private long settleTimer = -1;
    private Close closedAs;
    private String closedBy;
    private int closeCode;

    private long responses;
    private long unmeasured;
    private long inputTokens;
    private long outputTokens;
    private long inputAudioTokens;
    private long outputAudioTokens;
    private long refusedCreates;
    private long bytesFromCaller;
    private long bytesToCaller;

    /** One direction's message being received, frame by frame. */
    private static final class Side {
        Buffer message;
    }

    RealtimeSession(
            Realtime realtime,
            RequestLifecycle life,
            ServerWebSocket caller,
            WebSocket backend,
            LlmTokenLimit.Session budget,
            Context context) {
        this.realtime = realtime;
        this.life = life;
        this.ctx = life.ctx;
        this.caller = caller;
        this.backend = backend;
        this.budget = budget;
        this.tokens = realtime.tokenMetric();
        this.context = context;
        this.vertx = context.owner();
        AigateConfig.Realtime limits = realtime.limits();
        this.maxMessage = limits.maxMessageSize().asLongValue();
        this.idleNanos = limits.idleTimeout().toNanos();
        this.refusalsBeforeClose = limits.refusalsBeforeClose();
        int queue = (int) Math.min(Integer.MAX_VALUE, maxMessage);
        caller.setWriteQueueMaxSize(queue);
        backend.setWriteQueueMaxSize(queue);
    }

    void start() {
        life.session = this;
        life.enter(RequestLifecycle.State.RELAYING);
        caller.frameHandler(frame -> frame(fromCaller, frame, true));
        backend.frameHandler(frame -> frame(fromBackend, frame, false));
        caller.closeHandler(v -> {
            closedBy("caller", caller.closeStatusCode());
            realtime.upgradeOver(life.request);
        });
        backend.closeHandler(v -> closedBy("backend", backend.closeStatusCode()));
        caller.exceptionHandler(err -> LOG.debugf("realtime caller socket: %s", err.getMessage()));
        backend.exceptionHandler(err -> LOG.debugf("realtime backend socket: %s", err.getMessage()));
        caller.drainHandler(v -> {
            if (callerFull) {
                callerFull = false;
                release(false);
                release(true);
            }
        });
        backend.drainHandler(v -> {
            if (backendFull) {
                backendFull = false;
                release(true);
            }
        });
        sessionTimer = vertx.setTimer(
                realtime.limits().maxSessionDuration().toMillis(), t -> close(Close.SESSION_LIMIT, "aigate"));
        armIdle(idleNanos);
        backend.resume();
    }

    // ---- frames ----

    private void frame(Side side, WebSocketFrame frame, boolean isCaller) {
        if ((over && (isCaller || !settling))
                || frame.isClose()
                || frame.isPing()
                || frame.type() == io.vertx.core.http.WebSocketFrameType.PONG) {
            return; // Vert.x answers pings and runs the closing handshake itself
        }
        lastHeardNanos = System.nanoTime();
        Buffer data = frame.binaryData();
        if (isCaller) {
            bytesFromCaller += data.length();
        }
        if (frame.isBinary() || (frame.isContinuation() && side.message == null && !frame.isText())) {
            // a binary message, or a continuation of nothing: the Realtime API is JSON text
            close(
                    frame.isBinary() ? (isCaller ? Close.BINARY : Close.BACKEND) : Close.PROTOCOL,
                    isCaller ? "caller" : "backend");
            return;
        }
        if (frame.isText()) {
            if (side.message != null) {
                close(Close.PROTOCOL, isCaller ? "caller" : "backend");
                return;
            }
            side.message = Buffer.buffer(Math.min(data.length(), 64 * 1024));
        }
        if (side.message.length() + (long) data.length() > maxMessage) {
            side.message = null;
            close(isCaller ? Close.TOO_LARGE : Close.BACKEND, isCaller ? "caller" : "backend");
            return;
        }
        side.message.appendBuffer(data);
        if (!frame.isFinal()) {
            return;
        }
        Buffer message = side.message;
        side.message = null;
        if (isCaller) {
            fromCaller(message);
        } else {
            fromBackend(message);
        }
    }

    /** The caller's message, judged once; what is forwarded is the same bytes. */
    private void fromCaller(Buffer message) {
        JsonBody.Parsed parsed = JsonBody.parse(message);
        JsonNode type = parsed.ok() ? parsed.object().get("type") : null;
        if (type == null || !type.isTextual()) {
            close(Close.UNREADABLE, "caller");
            return;
        }
        ObjectNode event = parsed.object();
        String other = namesAnotherModel(event);
        if (other != null) {
            tellCaller(
                    event,
                    "invalid_request_error",
                    "model_not_allowed",
                    "This session is for deployment "
                            + GatewayHandler.printable(ctx.route().deployment()) + " only; its " + other
                            + " names another. The event was not forwarded.");
            return;
        }
        if (draining && type.textValue().equals("response.create")) {
            tellCaller(
                    event,
                    "server_error",
                    "shutting_down",
                    "aigate is shutting down; reconnect to start a response. The event was not forwarded.");
            return;
        }
        if (type.textValue().equals("response.create") && budget != null) {
            admit(event, message);
            return;
        }
        addedInputTokens =
                Math.min(Integer.MAX_VALUE, addedInputTokens + addedInput(type.textValue(), event, message.length()));
        toBackend(message);
    }

    /** What one forwarded caller event adds to what the next response reads, estimated (see the constants). */
    private static long addedInput(String type, ObjectNode event, int bytes) {
        return switch (type) {
            case "input_audio_buffer.append" -> {
                JsonNode audio = event.get("audio");
                yield audio != null && audio.isTextual() ? audio.textValue().length() / AUDIO_CHARS_PER_TOKEN + 1 : 0;
            }
            case "conversation.item.create" -> {
                // an item's audio parts are base64 audio, not text: counted at audio's rate
                long audio = 0;
                for (JsonNode part : event.path("item").path("content")) {
                    JsonNode data = part.get("audio");
                    audio += data != null && data.isTextual() ? data.textValue().length() : 0;
                }
                yield (bytes - audio) / BYTES_PER_TEXT_TOKEN + audio / AUDIO_CHARS_PER_TOKEN;
            }
            case "session.update" -> bytes / BYTES_PER_TEXT_TOKEN;
            case "response.create" -> {
                JsonNode response = event.path("response");
                yield response.has("instructions") || response.has("input") || response.has("tools")
                        ? bytes / BYTES_PER_TEXT_TOKEN
                        : 0;
            }
            default -> 0;
        };
    }

    /**
     * Where an event names a model other than the session's deployment, the field that does; else null. Every
     * {@code model} at any depth counts, not only {@code session.model} and {@code response.model}: a transcription
     * model ({@code session.input_audio_transcription.model}, {@code session.audio.input.transcription.model}) names
     * a deployment of its own, which the route, the claims and the budget were not judged for, and whose usage this
     * session could not count.
     */
    private String namesAnotherModel(ObjectNode event) {
        return namesAnotherModel(event, "", 0);
    }

    private String namesAnotherModel(JsonNode node, String path, int depth) {
        if (depth > 64) {
            return path; // the parse bounds nesting below this; deeper is refused, not walked
        }
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                String at = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                if (field.getKey().equals("model")) {
                    JsonNode model = field.getValue();
                    if (!model.isNull()
                            && (!model.isTextual()
                                    || !RouteTable.fold(model.textValue())
                                            .equals(ctx.route().deployment()))) {
                        return GatewayHandler.printable(at);
                    }
                } else if (field.getValue().isContainerNode()) {
                    String found = namesAnotherModel(field.getValue(), at, depth + 1);
                    if (found != null) {
                        return found;
                    }
                }
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = namesAnotherModel(node.get(i), path + "[" + i + "]", depth + 1);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /**
     * A {@code response.create} under a token limit: the caller is not read while the budget decides (so the events
     * after it keep their order, and a burst of creates is admitted one by one); admitted, it is forwarded with its
     * reservation; refused, the caller is told and the create goes nowhere.
     */
    private void admit(ObjectNode event, Buffer message) {
        if (created.size() + inFlight.size() >= MAX_RESPONSES_IN_FLIGHT) {
            tellCaller(
                    event,
                    "invalid_request_error",
                    "too_many_responses",
                    "Too many responses are in flight in this session; wait for one to finish.");
            return;
        }
        long reserve = budget.reservation(
                lastInputTokens + addedInputTokens + addedInput("response.create", event, message.length()),
                event.get("response"));
        hold(true);
        budget.admit(reserve)
                .onComplete(decided -> GatewayHandler.onContext(context, () -> {
                    if (over) {
                        if (decided.succeeded() && decided.result().reservation() != null) {
                            decided.result().reservation().release(); // never sent
                        }
                        return;
                    }
                    release(true);
                    if (decided.failed()) {
                        LOG.errorf(
                                decided.cause(),
                                "token limit failed on route %s; response.create not forwarded",
                                ctx.route().name());
                        close(Close.BACKEND, "aigate");
                        return;
                    }
                    LlmTokenLimit.Admitted admitted = decided.result();
                    if (admitted.refusal() != null) {
                        refused(event, admitted.refusal());
                        return;
                    }
                    refusedInARow = 0;
                    created.add(admitted.reservation());
                    toBackend(message);
                }));
    }

    private void refused(ObjectNode event, LimitRefusal refusal) {
        refusedCreates++;
        refusedInARow++;
        tellCaller(event, "rate_limit_exceeded", refusal.reason(), refusal.message());
        if (refusedInARow >= refusalsBeforeClose) {
            close(Close.OVER_BUDGET, "aigate");
        }
    }

    /** The backend's message: read for what the session used, then relayed as it came. */
    private void fromBackend(Buffer message) {
        String type = RealtimeUsage.type(message);
        if (settling) {
            settleFrom(type, message);
            return;
        }
        if (type == null) {
            close(Close.BACKEND, "backend");
            return;
        }
        switch (type) {
            case "response.created" -> started(message);
            case "response.done" -> done(message);
            case "error" -> {
                // a create the backend refused generated nothing: its reservation comes back
                if (!created.isEmpty() && !errorConcernsRunningResponse(message)) {
                    created.poll().release();
                }
            }
            default -> {}
        }
        if (!over) {
            toCaller(message);
        }
        if (draining && !over && created.isEmpty() && inFlight.isEmpty()) {
            close(Close.GOING_AWAY, "aigate"); // its last response reached the caller
        }
    }

    /**
     * aigate is shutting down: once nothing is in flight the session closes with 1001, at the latest just before
     * Quarkus stops waiting for it. Called from any thread.
     */
    void goingAway() {
        context.runOnContext(v -> {
            if (over || draining) {
                return;
            }
            draining = true;
            if (created.isEmpty() && inFlight.isEmpty()) {
                close(Close.GOING_AWAY, "aigate");
            } else {
                drainTimer = vertx.setTimer(realtime.shutdownMillis(), t -> close(Close.GOING_AWAY, "aigate"));
            }
        });
    }

    private static boolean errorConcernsRunningResponse(Buffer message) {
        JsonBody.Parsed parsed = JsonBody.parse(message);
        return !parsed.ok()
                || parsed.object().path("error").path("code").asText("").startsWith("response_cancel");
    }

    /** A response began: the create's reservation is its own; one the backend began itself is admitted now. */
    private void started(Buffer message) {
        JsonBody.Parsed parsed = JsonBody.parse(message);
        String id = parsed.ok() ? parsed.object().path("response").path("id").asText(null) : null;
        if (id == null || id.length() > 128 || inFlight.containsKey(id)) {
            close(Close.BACKEND, "backend");
            return;
        }
        long start = epochNanos();
        Reservation reserved = created.poll();
        if (budget == null || reserved != null) {
            inFlight.put(id, new InFlight(reserved, start));
            return;
        }
        if (inFlight.size() >= MAX_RESPONSES_IN_FLIGHT) {
            close(Close.SERVER_BUSY, "backend");
            return;
        }
        // the backend began this one itself (voice activity): it is admitted after the fact, and if the budget cannot
        // take it, it is the one response past the limit: cancelled, the caller told, and nothing more begins
        InFlight pending = new InFlight(null, start);
        inFlight.put(id, pending);
        budget.admit(budget.reservation(lastInputTokens + addedInputTokens, null))
                .onComplete(decided -> GatewayHandler.onContext(context, () -> {
                    Reservation admitted =
                            decided.succeeded() ? decided.result().reservation() : null;
                    if (inFlight.get(id) == pending) {
                        inFlight.put(id, new InFlight(admitted, start));
                    } else if (admitted != null) {
                        admitted.unknown(); // already done: what it reserved stands
                    }
                    if (admitted == null && !over) {
                        backend.writeTextMessage(new JsonObject()
                                .put("type", "response.cancel")
                                .put("response_id", id)
                                .encode());
                        LimitRefusal refusal =
                                decided.succeeded() ? decided.result().refusal() : null;
                        refusedCreates++;
                        tellCaller(
                                null,
                                "rate_limit_exceeded",
                                refusal == null ? "token_limit" : refusal.reason(),
                                refusal == null ? "Token limit could not be checked." : refusal.message());
                        close(Close.OVER_BUDGET, "aigate");
                    }
                }));
    }

    /** A response ended: its exact usage is counted, and settles its reservation. */
    private void done(Buffer message) {
        JsonBody.Parsed parsed = JsonBody.parse(message);
        ObjectNode event = parsed.ok() ? parsed.object() : null;
        String id = event == null ? null : event.path("response").path("id").asText(null);
        InFlight flight = id == null ? null : inFlight.remove(id);
        RealtimeUsage used = RealtimeUsage.read(event);
        responses++;
        if (used != null) {
            tokens.realtime(ctx, used);
            inputTokens += used.inputTokens();
            outputTokens += used.outputTokens();
            inputAudioTokens += Math.max(0, used.inputAudioTokens());
            outputAudioTokens += Math.max(0, used.outputAudioTokens());
            lastInputTokens =
                    Math.min(Integer.MAX_VALUE, Math.max(0, used.inputTokens()) + Math.max(0, used.outputTokens()));
            addedInputTokens = 0;
        } else {
            unmeasured++;
            tokens.realtimeUnmeasured(ctx);
        }
        if (flight != null) {
            LlmTokenLimit.settle(flight.reservation(), used, true);
        } else if (!created.isEmpty()) {
            LlmTokenLimit.settle(created.poll(), used, true); // done without created: it settles the oldest create
        }
        if (life.span != null) {
            realtime.tracing()
                    .realtimeResponse(life.span, ctx, flight == null ? epochNanos() : flight.startEpochNanos(), used);
        }
    }

    private static long epochNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * A Realtime {@code error} event from aigate, as the API shapes its own, naming the event it concerns: never the
     * caller's text back, only its {@code event_id} when that is a plain id.
     */
    private void tellCaller(ObjectNode about, String type, String code, String message) {
        JsonObject error = new JsonObject().put("type", type).put("code", code).put("message", message);
        JsonNode eventId = about == null ? null : about.get("event_id");
        if (eventId != null && eventId.isTextual() && eventId.textValue().matches("[A-Za-z0-9_-]{1,64}")) {
            error.put("event_id", eventId.textValue());
        }
        toCaller(Buffer.buffer(new JsonObject()
                .put("type", "error")
                .put("event_id", "aigate_" + Long.toHexString(System.nanoTime()))
                .put("error", error)
                .encode()));
    }

    // ---- writing, with back-pressure ----

    private void toBackend(Buffer message) {
        if (over) {
            return;
        }
        backend.writeTextMessage(message.toString(StandardCharsets.UTF_8));
        if (!backendFull && backend.writeQueueFull()) {
            backendFull = true;
            hold(true); // the caller is not read until the backend has taken what it was given
        }
    }

    private void toCaller(Buffer message) {
        if (over) {
            return;
        }
        bytesToCaller += message.length();
        caller.writeTextMessage(message.toString(StandardCharsets.UTF_8));
        if (!callerFull && caller.writeQueueFull()) {
            // neither side is read until the caller takes what it was given: not the backend's answers, and not the
            // caller's own events either, whose answers (errors aigate writes, pongs Vert.x writes) would pile up
            callerFull = true;
            hold(false);
            hold(true);
        }
    }

    /** Stops reading one side: the caller ({@code callerSide}) or the backend. */
    private void hold(boolean callerSide) {
        if (callerSide) {
            if (callerHolds++ == 0) {
                caller.pause();
            }
        } else if (backendHolds++ == 0) {
            backend.pause();
        }
    }

    /** A drain, or an admission decided: that side is read again once nothing else holds it. */
    private void release(boolean callerSide) {
        if (callerSide) {
            if (callerHolds > 0 && --callerHolds == 0 && !over) {
                caller.resume();
            }
        } else if (backendHolds > 0 && --backendHolds == 0 && !over) {
            backend.resume();
        }
    }

    // ---- timers and the end ----

    private void armIdle(long inNanos) {
        idleTimer = vertx.setTimer(Math.max(1, inNanos / 1_000_000), t -> {
            long quiet = System.nanoTime() - lastHeardNanos;
            if (quiet >= idleNanos) {
                close(Close.IDLE, "aigate");
            } else if (!over) {
                armIdle(idleNanos - quiet);
            }
        });
    }

    /** One side closed its socket: the other is closed with the same code where it is one a peer may send. */
    private void closedBy(String side, Short code) {
        if (over) {
            return;
        }
        int received = code == null ? 1006 : code;
        boolean clean = received == 1000 || received == 1001;
        if (clean) {
            close(Close.NORMAL, side, received);
        } else {
            close(side.equals("backend") ? Close.BACKEND : Close.CALLER_GONE, side, received);
        }
    }

    private void close(Close why, String by) {
        close(why, by, why.code);
    }

    /** The session ends here, once: both sockets closed, open reservations settled, the record written. */
    private void close(Close why, String by, int code) {
        if (over) {
            return;
        }
        over = true;
        closedAs = why;
        closedBy = by;
        closeCode = code;
        vertx.cancelTimer(idleTimer);
        vertx.cancelTimer(sessionTimer);
        vertx.cancelTimer(drainTimer);
        fromCaller.message = null;
        fromBackend.message = null;
        short sent = (short)
                (why == Close.NORMAL && code >= 1000 && code <= 4999 && code != 1005 && code != 1006 ? code : why.code);
        if (!caller.isClosed()) {
            caller.close(sent, why.reason);
        }
        boolean pending = !created.isEmpty() || !inFlight.isEmpty();
        if (pending && !backend.isClosed() && !by.equals("backend") && !draining) {
            // what was in flight is cancelled, and its usage read as the backend reports it, before the record
            settling = true;
            backendHolds = 0;
            backend.resume();
            inFlight.keySet().forEach(this::cancel);
            settleTimer = vertx.setTimer(SETTLE_MILLIS, t -> settled());
            backend.closeHandler(v -> settled());
            return;
        }
        if (!backend.isClosed()) {
            backend.close(why == Close.CALLER_GONE || by.equals("caller") ? (short) 1000 : sent, why.reason);
        }
        ended();
    }

    private void cancel(String responseId) {
        backend.writeTextMessage(new JsonObject()
                .put("type", "response.cancel")
                .put("response_id", responseId)
                .encode());
    }

    /** After the close, the backend is heard only for how what was in flight ended; nothing reaches the caller. */
    private void settleFrom(String type, Buffer message) {
        if ("response.created".equals(type)) {
            // a create forwarded before the close: its response began after all, and is cancelled as it begins
            JsonBody.Parsed parsed = JsonBody.parse(message);
            String id =
                    parsed.ok() ? parsed.object().path("response").path("id").asText(null) : null;
            Reservation reserved = created.poll();
            if (id != null && id.length() <= 128 && !inFlight.containsKey(id)) {
                inFlight.put(id, new InFlight(reserved, epochNanos()));
                cancel(id);
            } else if (reserved != null) {
                reserved.unknown();
            }
        } else if ("response.done".equals(type)) {
            done(message);
        }
        if (created.isEmpty() && inFlight.isEmpty()) {
            settled();
        }
    }

    private void settled() {
        if (!settling) {
            return;
        }
        settling = false;
        vertx.cancelTimer(settleTimer);
        if (!backend.isClosed()) {
            backend.close((short) 1000, closedAs.reason);
        }
        ended();
    }

    /** The record, once both sockets are closed and what was in flight is settled or can no longer be. */
    private void ended() {
        Close why = closedAs;
        // what is still in flight may have been generated, and billed: its reservation stands
        created.forEach(Reservation::unknown);
        created.clear();
        inFlight.values().forEach(f -> {
            if (f.reservation() != null) {
                f.reservation().unknown();
            }
        });
        inFlight.clear();
        realtime.closed(this);
        ctx.put(
                LlmEmitTokenMetric.COUNTED,
                new LlmEmitTokenMetric.Counted(inputTokens, outputTokens, false, null, List.of()));
        if (why != Close.NORMAL && life.timing != null && "backend".equals(closedBy)) {
            life.timing.error = Failure.CUT;
        }
        life.end(
                        why == Close.NORMAL
                                        || why == Close.IDLE
                                        || why == Close.SESSION_LIMIT
                                        || why == Close.GOING_AWAY
                                ? Ending.ANSWERED
                                : Ending.CUT)
                .onComplete(v -> life.answerOver());
    }

    /** Relayed to its end (closed normally, or by one of aigate's limits); cut by the backend; or the caller's doing. */
    RequestLifecycle.Outcome outcome() {
        if ("backend".equals(closedBy) && closedAs != Close.NORMAL) {
            return RequestLifecycle.Outcome.CUT;
        }
        return "caller".equals(closedBy) && closedAs != Close.NORMAL
                ? RequestLifecycle.Outcome.CALLER_CLOSED
                : RequestLifecycle.Outcome.FORWARDED;
    }

    long bytesFromCaller() {
        return bytesFromCaller;
    }

    long bytesToCaller() {
        return bytesToCaller;
    }

    /** The session's own fields of the audit line: its totals and how it closed. */
    void audit(JsonGenerator json) throws IOException {
        json.writeNumberField("realtime_responses", responses);
        json.writeNumberField("realtime_unmeasured", unmeasured);
        json.writeNumberField("realtime_refused_creates", refusedCreates);
        json.writeNumberField("input_audio_tokens", inputAudioTokens);
        json.writeNumberField("output_audio_tokens", outputAudioTokens);
        json.writeNumberField("close_code", closeCode);
        json.writeStringField(
                "close_reason", closedAs == null ? null : closedAs.name().toLowerCase(java.util.Locale.ROOT));
        json.writeStringField("closed_by", closedBy);
    }
}
