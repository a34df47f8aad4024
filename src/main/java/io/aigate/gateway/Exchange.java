package io.aigate.gateway;

import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.LimitRefusal;
import io.aigate.tokens.LlmTokenLimit;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.http.HttpServerRequest;

/**
 * One request as the gateway saw it, filled in as it goes along: what the forwarder, the metrics, the audit line and
 * the spans need. Where the request went and who sent it are read from its {@link RequestContext}, never copied.
 * Touched on the request's event loop only.
 */
final class Exchange {

    /** The gateway's record of a request, so the outbound section's news finds it. */
    static final RequestContext.Part<Exchange> PART = RequestContext.Part.declare("exchange");

    final HttpServerRequest request;
    final long receivedNanos = System.nanoTime();
    final String requestId;
    /** The deployment the request names (folded), known before a route is: a 404 is logged with it too. */
    String deployment;
    /** Why aigate answered itself (null: the backend's answer was relayed). */
    Refusal refusal;
    /** Once the target was read; its route, once matched, names the pool member that served. */
    RequestContext ctx;

    /** The body's one reading as a form, when it is one: a pool member's rename splices its model. */
    io.aigate.pipeline.MultipartForm form;

    long bufferedBytes;
    long bodyBytes;
    long bodyDone;
    /** When the answer's headers went out: the time to first byte. */
    long headersAt;
    /** Set by the forwarder once the request goes to a backend. */
    Timing timing;
    /** The pipeline decided, so the outbound section will settle the request once (its tokens are known then). */
    boolean awaitsSettlement;

    boolean settled;
    boolean finished;
    /** The request's server span, while tracing is on. */
    Span span;

    Exchange(HttpServerRequest request, String requestId) {
        this.request = request;
        this.requestId = requestId;
    }

    /** How a request ended, for the audit line. */
    enum Outcome {
        /** The backend's answer was relayed whole. */
        FORWARDED,
        /** aigate answered itself. */
        REFUSED,
        /** The backend broke off an answer that had begun, and aigate ended it broken for the caller. */
        CUT,
        /** The caller left, or stopped reading and was dropped, before the answer ended. */
        CALLER_CLOSED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
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
