package io.aigate.gateway;

import io.aigate.backends.BackendPool;
import io.aigate.backends.BackendPools;
import io.aigate.backends.Member;
import io.aigate.backends.PoolRefusal;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Errors;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.LlmTokenLimit;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The {@code <backend>} section of a Realtime session: the upgrade was judged by the same inbound phases as any
 * request; here a pool member is picked, its credential set by the attempt phase, and its WebSocket opened with that
 * credential alone. Only once the backend accepted is the caller's upgrade accepted, so a session the backend refuses
 * is still an APIM-style JSON answer. The relay itself is {@link RealtimeSession}.
 */
@Singleton
public class Realtime {

    private static final Logger LOG = Logger.getLogger(Realtime.class);

    /**
     * Subprotocols aigate answers a caller with (a browser must get one it offered back): the Realtime API's own.
     * Never {@code openai-insecure-api-key.<key>}: that one carries a credential, and nothing of the caller's
     * subprotocols reaches the backend, which is told only by aigate's headers.
     */
    static final List<String> SUBPROTOCOLS = List.of("realtime", "openai-beta.realtime-v1");

    /** Query parameters a caller's credential may ride in (browsers cannot set headers): never forwarded. */
    static final Set<String> CREDENTIAL_PARAMETERS = Set.of("api-key", "authorization");

    /** Request headers of the caller's handshake that are its own: the client sets the backend's. */
    private static final Set<String> HANDSHAKE = HopByHop.caseless(List.of(
            "sec-websocket-key",
            "sec-websocket-version",
            "sec-websocket-extensions",
            "sec-websocket-protocol",
            "origin"));

    private final AigateConfig.Realtime limits;
    private final BackendClients backends;
    private final BackendPools pools;
    private final InboundPipeline pipeline;
    private final LlmTokenLimit tokenLimit;
    private final LlmEmitTokenMetric tokenMetric;
    private final Tracing tracing;
    private final Vertx vertx;
    private final AtomicInteger open = new AtomicInteger();
    private volatile WebSocketClient client;

    Realtime(
            AigateConfig.Realtime limits,
            BackendClients backends,
            BackendPools pools,
            InboundPipeline pipeline,
            LlmTokenLimit tokenLimit,
            LlmEmitTokenMetric tokenMetric,
            Tracing tracing,
            Vertx vertx) {
        this.limits = limits;
        this.backends = backends;
        this.pools = pools;
        this.pipeline = pipeline;
        this.tokenLimit = tokenLimit;
        this.tokenMetric = tokenMetric;
        this.tracing = tracing;
        this.vertx = vertx;
    }

    /**
     * The caller's side of every session: its frame bound, and the subprotocols it may be answered with. A bean of its
     * own, with the configuration alone: the server is built before the gateway's beans are.
     */
    @Singleton
    static final class ServerOptions implements HttpServerOptionsCustomizer {
        private final AigateConfig.Realtime limits;

        ServerOptions(AigateConfig.Realtime limits) {
            this.limits = limits;
        }

        @Override
        public void customizeHttpServer(HttpServerOptions options) {
            options.setMaxWebSocketFrameSize((int) limits.maxFrameSize().asLongValue())
                    .setMaxWebSocketMessageSize((int) limits.maxMessageSize().asLongValue())
                    .setWebSocketSubProtocols(SUBPROTOCOLS)
                    .setPerMessageWebSocketCompressionSupported(false)
                    .setPerFrameWebSocketCompressionSupported(false);
        }
    }

    AigateConfig.Realtime limits() {
        return limits;
    }

    LlmEmitTokenMetric tokenMetric() {
        return tokenMetric;
    }

    Tracing tracing() {
        return tracing;
    }

    /** A session ended: its place is free. */
    void closed() {
        open.decrementAndGet();
    }

    /** The backend's side: frames as bounded as the caller's, no compression (its usage must stay readable). */
    private WebSocketClient client() {
        WebSocketClient c = client;
        if (c == null) {
            synchronized (this) {
                if (client == null) {
                    client = vertx.createWebSocketClient(new WebSocketClientOptions()
                            .setMaxFrameSize((int) limits.maxFrameSize().asLongValue())
                            .setMaxMessageSize((int) limits.maxMessageSize().asLongValue())
                            .setTryUsePerMessageCompression(false)
                            .setVerifyHost(true)
                            .setMaxConnections(limits.maxSessions()));
                }
                c = client;
            }
        }
        return c;
    }

    /**
     * Opens the session the inbound section let through. Every way this ends calls {@link RequestLifecycle#end} once:
     * here when no session begins, else when the session closes.
     *
     * @param deploymentParameter the query parameter that names the deployment ({@code deployment}, {@code model})
     */
    void open(RequestLifecycle life, String deploymentParameter) {
        RequestContext ctx = life.ctx;
        life.enter(RequestLifecycle.State.ATTEMPTING);
        if (life.request.response().closed()) {
            life.end(Ending.NOT_SENT);
            return;
        }
        if (open.incrementAndGet() > limits.maxSessions()) {
            open.decrementAndGet();
            refuse(life, RequestRefusal.REALTIME_SESSIONS_OVER_BOUND);
            return;
        }
        BackendPool pool = pools.get(ctx.route().backend());
        int index = pool.pick(0, ctx.route().deployment(), pools.now());
        if (index < 0) {
            PoolRefusal resting = pool.resting(ctx.route().deployment(), pools.now());
            pools.unavailable(ctx.route().name(), resting);
            closed();
            refuse(life, resting);
            return;
        }
        Member member = pool.member(index, ctx.route().deployment());
        ctx.route(new RequestContext.Route(
                ctx.route().name(), member.backend(), ctx.route().deployment()));
        Context context = Vertx.currentContext();
        pipeline.attempt(life)
                .onComplete(authorized -> GatewayHandler.onContext(context, () -> {
                    if (authorized.failed() || !authorized.result().proceeds()) {
                        pools.released(member);
                        closed();
                        if (authorized.failed()) {
                            LOG.errorf(
                                    authorized.cause(),
                                    "credential for backend %s failed; session refused",
                                    member.backend());
                        }
                        refuse(
                                life,
                                authorized.failed()
                                        ? RequestRefusal.INTERNAL
                                        : authorized.result().refusal());
                        return;
                    }
                    connect(life, member, deploymentParameter, context);
                }));
    }

    private void connect(RequestLifecycle life, Member member, String deploymentParameter, Context context) {
        RequestContext ctx = life.ctx;
        BackendClients.Backend backend = backends.get(member.backend());
        String query = ctx.outboundQuery();
        String renamed = backend.deploymentName(ctx.route().deployment());
        if (renamed != null) {
            // the backend's own name for the deployment, in the one parameter that names it
            String rest = QueryString.without(query, Set.of(deploymentParameter));
            String named = deploymentParameter + "=" + renamed;
            query = rest == null || rest.isEmpty() ? named : rest + "&" + named;
        }
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost(backend.host())
                .setPort(backend.port())
                .setSsl(backend.ssl())
                .setURI(backend.uri(ctx.inbound().path(), query))
                .setConnectTimeout(backend.connectTimeoutMillis())
                .setTimeout(backend.timeoutMillis())
                .setAllowOriginHeader(false);
        MultiMap headers = ctx.outboundHeaders();
        headers.forEach((name, value) -> {
            if (!HANDSHAKE.contains(name)) {
                options.addHeader(name, value);
            }
        });
        life.timing = new Timing();
        life.timing.received = life.receivedNanos;
        life.timing.firstSentAt = System.nanoTime();
        client().connect(options)
                .onComplete(connected -> GatewayHandler.onContext(context, () -> {
                    if (connected.failed()) {
                        backendFailed(life, member, connected.cause());
                        return;
                    }
                    WebSocket toBackend = connected.result();
                    toBackend.pause(); // what it says before the caller's side is open waits for it, in order
                    pools.answered(member, 101, MultiMap.caseInsensitiveMultiMap());
                    if (life.request.response().closed()) {
                        toBackend.close(
                                RealtimeSession.Close.CALLER_GONE.code, RealtimeSession.Close.CALLER_GONE.reason);
                        closed();
                        life.end(Ending.UNANSWERED);
                        return;
                    }
                    life.request.resume();
                    life.request
                            .toWebSocket()
                            .onComplete(upgraded -> GatewayHandler.onContext(context, () -> {
                                if (upgraded.failed()) {
                                    LOG.debugf("realtime upgrade not accepted: %s", Errors.describe(upgraded.cause()));
                                    toBackend.close(
                                            RealtimeSession.Close.CALLER_GONE.code,
                                            RealtimeSession.Close.CALLER_GONE.reason);
                                    closed();
                                    life.end(Ending.UNANSWERED);
                                    refuse(life, RequestRefusal.INTERNAL);
                                    return;
                                }
                                life.timing.backendNanos = System.nanoTime() - life.timing.firstSentAt;
                                life.headersAt = System.nanoTime();
                                new RealtimeSession(
                                                this,
                                                life,
                                                upgraded.result(),
                                                toBackend,
                                                tokenLimit.session(ctx),
                                                context)
                                        .start();
                            }));
                }));
    }

    /** The backend refused the handshake, or could not be reached: the caller gets the usual JSON, not a socket. */
    private void backendFailed(RequestLifecycle life, Member member, Throwable err) {
        closed();
        if (err instanceof UpgradeRejectedException rejected) {
            pools.answered(member, rejected.getStatus(), rejected.getHeaders());
            LOG.warnf("backend %s refused a realtime session with status %d", member.backend(), rejected.getStatus());
            life.timing.error = Failure.unrelayable(rejected.getStatus());
            life.end(Ending.UNANSWERED);
            life.refuse(RequestRefusal.BACKEND_REFUSED_SESSION);
            return;
        }
        boolean timeout = err instanceof java.util.concurrent.TimeoutException
                || err instanceof io.netty.channel.ConnectTimeoutException;
        pools.unanswered(member, timeout);
        LOG.warnf(
                "backend %s: realtime session %s (%s)",
                member.backend(), timeout ? "timed out" : "unreachable", Errors.describe(err));
        life.timing.error = Failure.lost(timeout);
        life.end(Ending.NOT_SENT);
        life.refuse(timeout ? RequestRefusal.BACKEND_TIMEOUT : RequestRefusal.BACKEND_UNREACHABLE);
    }

    private static void refuse(RequestLifecycle life, io.aigate.pipeline.Refusal refusal) {
        life.end(Ending.NOT_SENT);
        life.refuse(refusal);
    }
}
