package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.quarkus.runtime.Startup;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The data path, top to bottom: check the request target, read the body (bounded), match a route, run the inbound
 * pipeline, forward. Every refusal is an APIM-style JSON answer, and none of them reaches a backend.
 */
@Startup
@ApplicationScoped
public class GatewayHandler {

    private static final Logger ACCESS = Logger.getLogger("aigate.access");
    /** What Azure OpenAI's data plane uses; TRACE, CONNECT and inventions never reach a backend. */
    private static final Set<HttpMethod> ALLOWED_METHODS = Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.HEAD, HttpMethod.OPTIONS);
    private static final Logger LOG = Logger.getLogger(GatewayHandler.class);

    private final RouteTable routes;
    private final InboundPipeline pipeline;
    private final Forwarder forwarder;
    private final GatewayMetrics metrics;
    private final long maxBodyBytes;
    private final Set<String> droppedHeaders;
    private final Set<String> droppedQueryParameters;

    GatewayHandler(AigateConfig config, InboundPipeline pipeline, Forwarder forwarder, GatewayMetrics metrics) {
        this.routes = new RouteTable(config.routes(), config.enabledRoutes().orElse(null));
        this.pipeline = pipeline;
        this.forwarder = forwarder;
        this.metrics = metrics;
        this.maxBodyBytes = config.request().maxBodySize().asLongValue();
        // every header a caller credential can arrive in; Set.copyOf folds the names configured to the defaults
        this.droppedHeaders = Set.copyOf(List.of("authorization", "api-key",
                config.subscriptionKey().headerName().toLowerCase(Locale.ROOT),
                config.jwt().headerName().toLowerCase(Locale.ROOT)));
        this.droppedQueryParameters = Set.of(config.subscriptionKey().queryParameterName().toLowerCase(Locale.ROOT));
    }

    /** What the access log and metrics need, filled in as the request goes along. */
    private static final class Exchange {
        final long receivedNanos = System.nanoTime();
        String route = "none";
        String backend = "none";
        String deployment;
        String reason = "forwarded";
        String subscription;
    }

    void handle(HttpServerRequest request) {
        Exchange exchange = new Exchange();
        request.response().endHandler(v -> finished(request, exchange));
        RequestTarget target = RequestTarget.parse(request.uri());
        if (target.kind() == RequestTarget.Kind.INVALID) {
            refuse(request, exchange, 400, ApimError.INVALID_TARGET, "invalid_target", Map.of());
            return;
        }
        if (target.kind() == RequestTarget.Kind.NOT_FOUND) {
            refuse(request, exchange, 404, ApimError.NOT_FOUND, "no_route", Map.of());
            return;
        }
        if (!ALLOWED_METHODS.contains(request.method())) {
            refuse(request, exchange, 405, ApimError.METHOD_NOT_ALLOWED, "method_not_allowed", Map.of());
            return;
        }
        long declared = contentLength(request);
        if (declared > maxBodyBytes) {
            refuse(request, exchange, 413, ApimError.TOO_LARGE.formatted(maxBodyBytes), "body_too_large", Map.of());
            return;
        }
        if ("100-continue".equalsIgnoreCase(request.headers().get(HttpHeaders.EXPECT))) {
            // curl and others wait for this before sending a body; without it every large request waits a second
            request.response().writeContinue();
        }
        Buffer body = Buffer.buffer(declared > 0 ? (int) declared : 0);
        boolean[] tooLarge = {false};
        request.handler(chunk -> {
            if (tooLarge[0]) {
                return;
            }
            if (body.length() + chunk.length() > maxBodyBytes) {
                tooLarge[0] = true;
                refuse(request, exchange, 413, ApimError.TOO_LARGE.formatted(maxBodyBytes), "body_too_large",
                        Map.of());
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(err -> LOG.debugf("request body not received: %s", err.getMessage()));
        request.endHandler(v -> {
            if (!tooLarge[0]) {
                routeAndRun(request, exchange, target, body);
            }
        });
        request.resume();
    }

    private void routeAndRun(HttpServerRequest request, Exchange exchange, RequestTarget target, Buffer body) {
        long bodyDone = System.nanoTime();
        String deployment = target.kind() == RequestTarget.Kind.CLASSIC ? target.deployment() : ModelField.of(body);
        exchange.deployment = deployment;
        RouteTable.Route route = routes.match(deployment);
        if (route == null) {
            refuse(request, exchange, 404, ApimError.NOT_FOUND, "no_route", Map.of());
            return;
        }
        exchange.route = route.name();
        exchange.backend = route.backend();
        RequestContext ctx = new RequestContext(request.method().name(), target.path(), request.headers(),
                target.query(), QueryString.without(target.query(), droppedQueryParameters), body, route.name(),
                route.backend(), deployment, HopByHop.requestHeaders(request.headers(), droppedHeaders),
                exchange.receivedNanos);
        Context requestContext = Vertx.currentContext();
        pipeline.run(ctx).onComplete(decided -> {
            if (Vertx.currentContext() != requestContext) {
                // a step finished on another thread (a Redis or Entra callback): continue on the caller's event loop
                requestContext.runOnContext(v -> decided(request, exchange, ctx, decided, bodyDone));
            } else {
                decided(request, exchange, ctx, decided, bodyDone);
            }
        });
    }

    private void decided(HttpServerRequest request, Exchange exchange, RequestContext ctx,
                         AsyncResult<Outcome> decided, long bodyDone) {
        if (decided.failed() || !decided.result().proceeds()) {
            ctx.settle(0); // a step after the token limit refused: the backend did no work
        }
        if (decided.failed()) {
            LOG.errorf(decided.cause(), "pipeline failed on route %s; request refused", ctx.routeName());
            refuse(request, exchange, 500, "Internal error.", "pipeline_error", Map.of());
            return;
        }
        Outcome outcome = decided.result();
        exchange.subscription = ctx.subscriptionId();
        if (!outcome.proceeds()) {
            refuse(request, exchange, outcome.status(), outcome.message(), outcome.reason(), outcome.headers());
            return;
        }
        forwarder.forward(ctx, request, bodyDone);
    }

    private void refuse(HttpServerRequest request, Exchange exchange, int status, String message, String reason,
                        Map<String, String> headers) {
        exchange.reason = reason;
        // a body we did not read is not drained: closing is cheaper and leaves nothing half-read on the connection
        ApimError.send(request.response(), status, message, headers, !request.isEnded());
    }

    private void finished(HttpServerRequest request, Exchange exchange) {
        int status = request.response().getStatusCode();
        long elapsed = System.nanoTime() - exchange.receivedNanos;
        metrics.request(exchange.route, exchange.backend, status, elapsed);
        if (ACCESS.isInfoEnabled() && (status >= 400 || ACCESS.isDebugEnabled())) {
            ACCESS.infof("route=%s backend=%s deployment=%s subscription=%s status=%d reason=%s ms=%.3f",
                    exchange.route, exchange.backend, printable(exchange.deployment),
                    exchange.subscription == null ? "-" : exchange.subscription, status, exchange.reason,
                    elapsed / 1e6);
        }
    }

    /** Deployment names come from callers: only a short, plain form reaches the log. */
    private static String printable(String deployment) {
        if (deployment == null) {
            return "-";
        }
        String plain = deployment.replaceAll("[^A-Za-z0-9._-]", "?");
        return plain.length() > 64 ? plain.substring(0, 64) + "…" : plain;
    }

    private static long contentLength(HttpServerRequest request) {
        String value = request.headers().get(HttpHeaders.CONTENT_LENGTH);
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE; // unparseable: treated as too large, never guessed
        }
    }
}
