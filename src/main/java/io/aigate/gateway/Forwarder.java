package io.aigate.gateway;

import io.aigate.pipeline.Errors;
import io.aigate.pipeline.RequestContext;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.streams.ReadStream;
import jakarta.inject.Singleton;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Sends the request to its backend and streams the answer back as it arrives: each chunk (each SSE event) is written
 * to the caller when the backend sends it, with back-pressure both ways. Nothing here blocks. How each exchange went
 * is reported to the {@link OutboundPipeline}, which decides what it used and cost; the pools are
 * {@link BackendClients}.
 */
@Singleton
public class Forwarder {

    private static final Logger LOG = Logger.getLogger(Forwarder.class);
    private static final Set<HttpMethod> BODILESS =
            Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE, HttpMethod.OPTIONS);

    private final BackendClients backends;
    private final GatewayMetrics metrics;
    private final OutboundPipeline outbound;

    Forwarder(BackendClients backends, GatewayMetrics metrics, OutboundPipeline outbound) {
        this.backends = backends;
        this.metrics = metrics;
        this.outbound = outbound;
    }

    /**
     * @param received {@link System#nanoTime()} when the request body was complete, for the added-time metric
     */
    void forward(RequestContext ctx, HttpServerRequest request, long received) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            outbound.notForwarded(ctx); // the caller left while the pipeline ran: nothing was sent
            return;
        }
        BackendClients.Backend backend = backends.get(ctx.route().backend());
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost(backend.host())
                .setPort(backend.port())
                .setSsl(backend.ssl())
                .setURI(backend.uri(ctx.inbound().path(), ctx.outboundQuery()))
                .setHeaders(ctx.outboundHeaders())
                .setConnectTimeout(backend.connectTimeoutMillis())
                .setIdleTimeout(backend.timeoutMillis());
        backend.client().request(options).onComplete(connected -> {
            if (connected.failed()) {
                outbound.notForwarded(ctx); // no connection: the backend never saw the request
                backendFailed(ctx, request, connected.cause());
                return;
            }
            HttpClientRequest sending = connected.result();
            // a caller that hangs up stops the backend too: it would otherwise go on generating (and billing) tokens
            response.closeHandler(v -> sending.reset());
            long sentAt = System.nanoTime();
            (ctx.body().length() == 0 && BODILESS.contains(request.method())
                            ? sending.send()
                            : sending.send(ctx.body()))
                    .onComplete(answered -> {
                        if (answered.failed() && response.closed()) {
                            outbound.unanswered(ctx); // the caller left, and took the backend's request with it
                            metrics.cut(ctx.route().name(), ctx.route().backend(), "caller");
                        } else if (answered.failed()) {
                            outbound.unanswered(ctx); // sent, then no answer (a timeout, a reset)
                            backendFailed(ctx, request, answered.cause());
                        } else {
                            relay(ctx, request, answered.result(), sentAt - received);
                        }
                    });
        });
    }

    private void relay(RequestContext ctx, HttpServerRequest request, HttpClientResponse answer, long addedBefore) {
        long headersAt = System.nanoTime();
        HttpServerResponse response = request.response();
        if (response.closed()) {
            outbound.unanswered(ctx); // the caller left after the backend had the request
            answer.request().reset();
            return;
        }
        response.setStatusCode(answer.statusCode());
        if (answer.statusMessage() != null) {
            response.setStatusMessage(answer.statusMessage());
        }
        HopByHop.copyResponseHeaders(answer.headers(), response.headers());
        if (ctx.responseHeaders() != null) {
            response.headers().setAll(ctx.responseHeaders());
        }
        if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH) && request.version() != HttpVersion.HTTP_1_0) {
            response.setChunked(true);
        }
        metrics.overhead(ctx.route().name(), addedBefore + (System.nanoTime() - headersAt));
        OutboundPipeline.Answer outcome = outbound.answer(ctx, answer.statusCode(), answer.headers());
        if (outcome.holdsWhole()) {
            relayWhole(ctx, request, answer, outcome);
            return;
        }
        ReadStream<Buffer> body = outcome.observed(answer);
        if (outcome.rewrites()) {
            response.headers().remove(HttpHeaders.CONTENT_LENGTH); // what is relayed is shorter than what came
            response.setChunked(request.version() != HttpVersion.HTTP_1_0);
        }
        body.pipe()
                .endOnFailure(false)
                .to(response)
                .onSuccess(done -> outcome.ended(false))
                .onFailure(err -> {
                    outcome.ended(true);
                    cut(ctx, request, answer, err);
                });
    }

    /** An answer held until complete, for the tokens-consumed header. */
    private void relayWhole(
            RequestContext ctx, HttpServerRequest request, HttpClientResponse answer, OutboundPipeline.Answer outcome) {
        HttpServerResponse response = request.response();
        answer.body()
                .onSuccess(whole -> {
                    outcome.whole(whole, response.headers());
                    response.end(whole);
                })
                .onFailure(err -> {
                    outcome.ended(true);
                    cut(ctx, request, answer, new ObservedStream.SourceFailure(err));
                });
    }

    private void cut(RequestContext ctx, HttpServerRequest request, HttpClientResponse answer, Throwable err) {
        HttpServerResponse response = request.response();
        // a write to the caller fails before its connection counts as closed: only a failure of the answer itself is
        // the backend's, and only then is there a caller left to tell
        boolean backend = err instanceof ObservedStream.SourceFailure && !response.closed();
        metrics.cut(ctx.route().name(), ctx.route().backend(), backend ? "backend" : "caller");
        if (backend) {
            LOG.warnf(
                    "backend %s: response cut after headers (%s)",
                    ctx.route().backend(), Errors.describe(err.getCause()));
            abort(request);
        }
        answer.request().reset();
    }

    private void backendFailed(RequestContext ctx, HttpServerRequest request, Throwable err) {
        HttpServerResponse response = request.response();
        // by type: Vert.x's request timeout is a TimeoutException, Netty's connect and read timeouts have their own
        boolean timeout = err instanceof TimeoutException
                || err instanceof ConnectTimeoutException
                || err instanceof io.netty.handler.timeout.TimeoutException;
        LOG.warnf(
                "backend %s: %s (%s)",
                ctx.route().backend(), timeout ? "timed out" : "unreachable", Errors.describe(err));
        if (response.headWritten()) {
            abort(request);
            return;
        }
        ApimError.send(response, timeout ? RequestRefusal.BACKEND_TIMEOUT : RequestRefusal.BACKEND_UNREACHABLE, false);
    }

    /**
     * Ends an answer so that the caller sees it broken, never short but complete. On HTTP/1.x the connection is
     * closed rather than the response reset: Vert.x then reports the close like any other, and the request counts as
     * finished; a reset response never does, and the shutdown would wait out its whole timeout for it. On HTTP/2 only
     * the stream is reset, so the caller's other streams go on.
     */
    private static void abort(HttpServerRequest request) {
        if (request.version() == HttpVersion.HTTP_2) {
            request.response().reset();
        } else {
            request.connection().close();
        }
    }
}
