package io.aigate.gateway;

import io.aigate.pipeline.Caller;
import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.GenAiMetrics;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.StreamUsage;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Traces by the OpenTelemetry GenAI conventions: one server span per request, one client span per backend attempt,
 * both named {@code {gen_ai.operation.name} {gen_ai.request.model}} ({@code chat gpt-4o}), from the configured
 * operation and a configured deployment (else {@code _OTHER}), so span names are as bounded as metric labels. A caller's W3C
 * {@code traceparent} is continued, and each attempt's own is sent to its backend. Attributes are ids aigate checked,
 * configured names and numbers: never a key, a token, a prompt or a completion. Off unless an OTLP endpoint is
 * configured ({@code TracesNeedAnEndpoint}); off, each request pays one boolean test.
 */
@Singleton
public class Tracing {

    private static final TextMapGetter<MultiMap> FROM_HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap headers) {
            return headers.names();
        }

        @Override
        public String get(MultiMap headers, String key) {
            return headers == null ? null : headers.get(key);
        }
    };
    private static final TextMapSetter<MultiMap> INTO_HEADERS = (headers, key, value) -> {
        if (headers != null) {
            headers.set(key, value);
        }
    };

    private static final io.opentelemetry.api.common.AttributeKey<java.util.List<String>> FINISH_REASONS =
            io.opentelemetry.api.common.AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");

    private final boolean on;
    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final GenAiMetrics servers;

    Tracing(
            OpenTelemetry openTelemetry,
            GenAiMetrics servers,
            @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "true") boolean disabled) {
        this.on = !disabled;
        this.tracer = openTelemetry.getTracer("io.aigate");
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.servers = servers;
    }

    boolean on() {
        return on;
    }

    /** The request's server span, continuing the caller's trace; named once its operation and model are known. */
    Span server(HttpServerRequest request) {
        Context parent = propagator.extract(Context.root(), request.headers(), FROM_HEADERS);
        return tracer.spanBuilder("aigate")
                .setParent(parent)
                .setSpanKind(SpanKind.SERVER)
                .setAttribute("http.request.method", request.method().name())
                .startSpan();
    }

    /** The route and deployment are known: the span gets its conventional name. */
    void routed(Span span, RequestContext ctx) {
        String operation = GenAiMetrics.operation(ctx);
        span.updateName(operation + " " + servers.model(ctx.route().deployment()));
        span.setAttribute("gen_ai.operation.name", operation);
        span.setAttribute("gen_ai.request.model", ctx.route().deployment());
        span.setAttribute("aigate.route", ctx.route().name());
    }

    /** One attempt at a backend; its context goes to the backend in the outbound headers. */
    Span client(Span server, RequestContext ctx, int attempt) {
        String operation = GenAiMetrics.operation(ctx);
        Span span = tracer.spanBuilder(
                        operation + " " + servers.model(ctx.route().deployment()))
                .setParent(Context.root().with(server))
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute("gen_ai.operation.name", operation)
                .setAttribute("gen_ai.request.model", ctx.route().deployment())
                .setAttribute("aigate.backend", ctx.route().backend())
                .setAttribute("aigate.attempt", attempt)
                .startSpan();
        GenAiMetrics.Server where = servers.server(ctx.route().backend());
        if (where != null) {
            span.setAttribute("gen_ai.provider.name", where.provider());
            span.setAttribute("server.address", where.address());
            span.setAttribute("server.port", Long.parseLong(where.port()));
        }
        if (StreamUsage.streams(ctx.json())) { // the one reading of "stream" (a quoted "true" is not a stream)
            span.setAttribute("gen_ai.request.stream", true);
        }
        propagator.inject(Context.root().with(span), ctx.outboundHeaders(), INTO_HEADERS);
        return span;
    }

    /**
     * One Realtime response, a child of its session's span: from its {@code response.created} to its
     * {@code response.done}, with what it used (audio apart).
     */
    void realtimeResponse(Span session, RequestContext ctx, long startEpochNanos, io.aigate.tokens.RealtimeUsage used) {
        String operation = GenAiMetrics.operation(ctx);
        Span span = tracer.spanBuilder(
                        operation + " " + servers.model(ctx.route().deployment()))
                .setParent(Context.root().with(session))
                .setSpanKind(SpanKind.CLIENT)
                .setStartTimestamp(startEpochNanos, java.util.concurrent.TimeUnit.NANOSECONDS)
                .setAttribute("gen_ai.operation.name", operation)
                .setAttribute("gen_ai.request.model", ctx.route().deployment())
                .setAttribute("aigate.backend", ctx.route().backend())
                .startSpan();
        if (used != null) {
            span.setAttribute("gen_ai.usage.input_tokens", used.inputTokens());
            span.setAttribute("gen_ai.usage.output_tokens", used.outputTokens());
            span.setAttribute("aigate.usage.input_audio_tokens", used.inputAudioTokens());
            span.setAttribute("aigate.usage.output_audio_tokens", used.outputAudioTokens());
        } else {
            span.setAttribute("error.type", "no_usage");
        }
        span.end();
    }

    /** An attempt that got no answer, or one that is tried again elsewhere. */
    static void failed(Span client, String errorType) {
        client.setAttribute("error.type", errorType);
        client.setStatus(StatusCode.ERROR);
        client.end();
    }

    static void answered(Span client, int status) {
        client.setAttribute("http.response.status_code", status);
        if (status >= 400) {
            client.setAttribute("error.type", GatewayMetrics.statusLabel(status));
            client.setStatus(StatusCode.ERROR);
        }
    }

    /** The request is over: what it was, who asked, what was decided and used, on both spans. */
    void finish(RequestLifecycle life, int status) {
        Span server = life.span;
        RequestContext ctx = life.ctx;
        Timing timing = life.timing;
        Span client = timing == null ? null : timing.clientSpan;
        server.setAttribute("http.response.status_code", status);
        server.setAttribute("aigate.request_id", life.requestId);
        if (life.subscription() != null) {
            server.setAttribute("aigate.subscription.id", life.subscription());
        }
        Refusal refusal = life.refusal;
        if (refusal != null) {
            server.setAttribute("aigate.refused_by", refusal.policy());
            server.setAttribute("aigate.refusal.reason", refusal.reason());
        }
        if (ctx != null) {
            Caller caller = ctx.caller();
            if (caller.clientAppId() != null) {
                server.setAttribute("aigate.client_app.id", caller.clientAppId());
            }
            if (ctx.route().backend() != null) {
                server.setAttribute("aigate.backend", ctx.route().backend());
            }
            server.setAttribute("aigate.token_limit", life.tokenLimit());
            LlmEmitTokenMetric.Counted used = ctx.get(LlmEmitTokenMetric.COUNTED);
            if (used != null) {
                for (Span span : client == null ? new Span[] {server} : new Span[] {server, client}) {
                    span.setAttribute("gen_ai.usage.input_tokens", used.promptTokens());
                    span.setAttribute("gen_ai.usage.output_tokens", used.completionTokens());
                    span.setAttribute("aigate.usage.source", used.estimated() ? "estimated" : "reported");
                    if (used.responseModel() != null) {
                        span.setAttribute("gen_ai.response.model", used.responseModel());
                    }
                    if (!used.finishReasons().isEmpty()) {
                        span.setAttribute(FINISH_REASONS, used.finishReasons());
                    }
                }
            }
        }
        if (status >= 500 || (timing != null && timing.error != null)) {
            String error =
                    timing != null && timing.error != null ? timing.error.tag() : GatewayMetrics.statusLabel(status);
            server.setAttribute("error.type", error);
            server.setStatus(StatusCode.ERROR);
            if (client != null && timing.error != null) {
                client.setAttribute("error.type", timing.error.tag());
                client.setStatus(StatusCode.ERROR);
            }
        }
        if (client != null) {
            client.end();
        }
        server.end();
    }
}
