package io.aigate.gateway;

import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.GenAiMetrics;
import io.aigate.tokens.LimitRefusal;
import io.aigate.tokens.LlmTokenLimit;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

/**
 * One request's life, from its head to its record, and the one place every request ends. It moves through explicit
 * states; however it ends (refused on any line, no member, no answer, relayed, cut, the caller gone), it is ended by
 * {@link #end(Ending)}, once: the policies' instances settle what it used, and when the answer to the caller is also
 * over, its record is written exactly once (buffers given back, the request meters, the GenAI duration, the audit line,
 * the spans). Touched on the request's event loop only.
 */
final class RequestLifecycle {

    /** Where the request is. Only ever moves forward. */
    enum State {
        /** Its head is being judged (target, method, route, the header phases). */
        DECIDING,
        /** Its body is being received, bounded, read once, and judged. */
        RECEIVING,
        /** Sent, or about to be sent, to a pool member ({@link Attempts#made} says which attempt). */
        ATTEMPTING,
        /** A backend's answer is flowing to the caller. */
        RELAYING,
        /** {@link #end} was called: the policies are settling. */
        ENDING,
        /** Settled; the record waits for the answer to the caller to be over. */
        ENDED,
        /** Its record is written. Nothing more happens to it. */
        RECORDED
    }

    /** What writing a request's record needs, shared by every request. */
    record Recorder(
            GatewayMetrics metrics, AuditLog audit, GenAiMetrics genAi, Tracing tracing, BufferedBodies buffered) {}

    private static final Policy.Instance[] NONE = new Policy.Instance[0];

    final HttpServerRequest request;
    final long receivedNanos = System.nanoTime();
    final String requestId;
    private final Recorder recorder;
    /** The request's event loop: the HTTP request may only be touched from it. */
    final Context context;

    private State state = State.DECIDING;
    private boolean answerOver;
    private Future<Void> settled;

    /** The deployment the request names (folded), known before a route is: a 404 is logged with it too. */
    String deployment;
    /** Why aigate answered itself (null: the backend's answer was relayed). */
    Refusal refusal;
    /** Once the target was read; its route, once matched, names the pool member that served. */
    RequestContext ctx;
    /** The policies' instances for this request, in the pipeline's order; none until its target was read. */
    Policy.Instance[] policies = NONE;

    /** What this request holds of the shared bound ({@link BufferedBodies}); given back by its record. */
    private long bufferedBytes;

    long bodyBytes;
    long bodyDone;
    /** When the answer's headers went out: the time to first byte. */
    long headersAt;
    /** Set by the forwarder once the request goes to a backend. */
    Timing timing;
    /** The request's server span, while tracing is on. */
    Span span;
    /** A Realtime session, once its upgrade was accepted: its record says how it went instead of the answer. */
    RealtimeSession session;

    RequestLifecycle(HttpServerRequest request, String requestId, Recorder recorder) {
        this.request = request;
        this.requestId = requestId;
        this.recorder = recorder;
        this.context = Vertx.currentContext();
        request.response().endHandler(v -> answerOver());
    }

    /** A step forward (never back, never past the end). */
    void enter(State next) {
        if (next.compareTo(state) > 0 && state.compareTo(State.ENDING) < 0) {
            state = next;
        }
    }

    /**
     * Takes {@code bytes} of the bound all bodies share, for this request: false when they do not fit, or when the
     * request is not receiving its body (once it is ending, its record gives back what it holds, and nothing taken
     * after that would be).
     */
    boolean hold(long bytes) {
        if (state != State.RECEIVING || !recorder.buffered().take(bytes)) {
            return false;
        }
        bufferedBytes += bytes;
        return true;
    }

    /** aigate answers the caller itself. A body it did not read is not drained: closing is cheaper. */
    void refuse(Refusal why) {
        this.refusal = why;
        ApimError.send(request.response(), why, !request.isEnded());
    }

    /**
     * The request ends: each policy's instance settles it, in the {@code <outbound>} order. Called once on every path;
     * a second call changes nothing.
     *
     * @return complete once the policies are done (a held answer is relayed after that, so they can still set its
     *     headers)
     */
    Future<Void> end(Ending ending) {
        if (settled != null) {
            return settled;
        }
        state = State.ENDING;
        Promise<Void> done = Promise.promise();
        settled = done.future();
        OutboundPipeline.end(policies, ctx, ending)
                .onComplete(ended -> GatewayHandler.onContext(context, () -> {
                    state = State.ENDED;
                    done.complete(); // a policy that failed to settle has logged it; the request's record is still
                    // written
                    if (answerOver) {
                        record();
                    }
                }));
        return settled;
    }

    /** The answer to the caller ended, or the caller left (a session: both sockets are closed). */
    void answerOver() {
        if (answerOver) {
            return;
        }
        answerOver = true;
        if (state == State.ENDED) {
            record();
        }
    }

    private void record() {
        if (state == State.RECORDED) {
            return;
        }
        state = State.RECORDED;
        long end = System.nanoTime();
        recorder.buffered().give(bufferedBytes);
        bufferedBytes = 0;
        int status = session != null ? 101 : request.response().getStatusCode();
        Outcome outcome = session != null ? session.outcome() : outcome();
        recorder.metrics().request(route(), backend(), status, end - receivedNanos);
        if (timing != null && timing.firstSentAt != 0 && outcome != Outcome.CALLER_CLOSED) {
            String error = timing.error != null
                    ? timing.error.tag()
                    : status >= 400 ? GatewayMetrics.statusLabel(status) : null;
            recorder.genAi().operation(ctx, end - timing.firstSentAt, error);
        }
        recorder.audit().write(this, status, outcome, end);
        if (span != null) {
            recorder.tracing().finish(this, status);
        }
    }

    /** How a request ended for its caller, for the audit line. */
    enum Outcome {
        /** The backend's answer was relayed whole. */
        FORWARDED,
        /** aigate answered itself. */
        REFUSED,
        /** The backend broke off an answer that had begun, and aigate ended it broken for the caller. */
        CUT,
        /** The caller left, or stopped reading and was dropped, before the answer ended. */
        CALLER_CLOSED;

        private final String tag = name().toLowerCase(java.util.Locale.ROOT);

        String tag() {
            return tag;
        }
    }

    /** Read from the answer once it ended (or was closed). */
    Outcome outcome() {
        if (request.response().closed() && !request.response().ended()) {
            // aigate ends an answer the backend broke off itself, and its timing says why; any other is the caller
            return timing != null && timing.error != null ? Outcome.CUT : Outcome.CALLER_CLOSED;
        }
        return refusal == null ? Outcome.FORWARDED : Outcome.REFUSED;
    }

    String route() {
        String name = ctx == null ? null : ctx.route().name();
        return name == null ? "none" : name;
    }

    /** The route's backend or pool before forwarding; the member that served after. */
    String backend() {
        String name = ctx == null ? null : ctx.route().backend();
        return name == null ? "none" : name;
    }

    /**
     * The token limit's decision: its refusal's reason, {@code admitted}, or {@code none} when no limit applied (or
     * the request never reached it).
     */
    String tokenLimit() {
        if (refusal instanceof LimitRefusal) {
            return refusal.reason();
        }
        String decision = ctx == null ? null : LlmTokenLimit.decision(ctx);
        return decision == null ? "none" : decision;
    }

    String subscription() {
        return ctx == null ? null : ctx.caller().subscriptionId();
    }
}
