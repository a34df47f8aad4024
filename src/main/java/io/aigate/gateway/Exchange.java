package io.aigate.gateway;

import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.http.HttpServerRequest;

/**
 * One request as the gateway saw it, filled in as it goes along: what the metrics and the audit line need. Touched on
 * the request's event loop only.
 */
final class Exchange {

    final HttpServerRequest request;
    final long receivedNanos = System.nanoTime();
    final long receivedAtMillis = System.currentTimeMillis();
    final String requestId;
    String route = "none";
    String backend = "none";
    String deployment;
    String subscription;
    /** Why aigate answered itself (null: the backend's answer was relayed). */
    Refusal refusal;
    /** Once routed: the pool member that served is in its route, the policies' results in its parts. */
    RequestContext ctx;

    long bufferedBytes;
    long bodyBytes;
    long bodyDone;
    /** When the answer's headers went out: the time to first byte. */
    long headersAt;
    /** The pipeline decided, so the outbound section will settle the request once (its tokens are known then). */
    boolean awaitsSettlement;

    boolean settled;
    boolean finished;
    /** The caller left before the answer ended. */
    boolean callerClosed;
    /** The request's server span, while tracing is on. */
    io.opentelemetry.api.trace.Span span;

    Exchange(HttpServerRequest request, String requestId) {
        this.request = request;
        this.requestId = requestId;
    }
}
