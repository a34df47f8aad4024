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
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.quarkus.runtime.annotations.RegisterForReflection;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.quarkus.vertx.http.runtime.filters.QuarkusRequestWrapper;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The {@code <backend>} section of a Realtime session: the upgrade was judged by the same inbound phases as any
 * request; here a pool member is picked, its credential set by the attempt phase, and its WebSocket opened with that
 * credential alone. Only once the backend accepted is the caller's upgrade accepted, so a session the backend refuses
 * is still an APIM-style JSON answer. The relay itself is {@link RealtimeSession}.
 */
@Singleton
@RegisterForReflection(targets = QuarkusRequestWrapper.class, methods = true, fields = false)
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
    private final RetryRules retries;
    private final long shutdownMillis;
    private final AtomicInteger open = new AtomicInteger();
    /** Sessions relaying now: each is told when aigate shuts down. */
    private final Set<RealtimeSession> sessions = ConcurrentHashMap.newKeySet();

    private volatile boolean draining;
    private volatile WebSocketClient client;
    /** Quarkus's own "this request is done", for an upgraded one; null if this Quarkus has none by that name. */
    private final Method requestDone;

    Realtime(
            AigateConfig.Realtime limits,
            BackendClients backends,
            BackendPools pools,
            InboundPipeline pipeline,
            LlmTokenLimit tokenLimit,
            LlmEmitTokenMetric tokenMetric,
            Tracing tracing,
            Vertx vertx,
            RetryRules retries,
            @ConfigProperty(name = "quarkus.shutdown.timeout", defaultValue = "30s") Duration shutdownTimeout) {
        this.retries = retries;
        this.requestDone = requestDone();
        // a session finishing its response on SIGTERM is closed before Quarkus stops waiting and cuts the socket
        this.shutdownMillis = Math.max(1, shutdownTimeout.toMillis() - 1_000);
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
            bound(options);
        }

        // every listener the data path can be served on gets the same bounds (a TLS one would keep Vert.x's
        // defaults, compression among them, and a deflated frame is not bounded before it is inflated)
        @Override
        public void customizeHttpsServer(HttpServerOptions options) {
            bound(options);
        }

        @Override
        public void customizeDomainSocketServer(HttpServerOptions options) {
            bound(options);
        }

        private void bound(HttpServerOptions options) {
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

    /** A session, or a handshake that began none, ended: its place is free. */
    void closed() {
        open.decrementAndGet();
    }

    void closed(RealtimeSession session) {
        sessions.remove(session);
        closed();
    }

    /**
     * SIGTERM: the data port refuses new sessions from now on; each open one finishes the responses it has in flight,
     * then closes with 1001 (going away), so its client reconnects to a pod that is staying.
     */
    void drain(@Observes ShutdownDelayInitiatedEvent event) {
        draining = true;
        sessions.forEach(RealtimeSession::goingAway);
    }

    /**
     * Quarkus's graceful shutdown counts every request until its response ends, and Vert.x ends an upgraded request's
     * response without telling anyone: left so, each session ever opened would hold every shutdown for all of
     * {@code quarkus.shutdown.timeout}. So the caller's connection closing ends its request for Quarkus, through the
     * method Quarkus itself calls (package-private, registered for reflection; GracefulShutdownIT fails if it goes).
     */
    private static Method requestDone() {
        try {
            Method done = QuarkusRequestWrapper.class.getDeclaredMethod("done");
            done.setAccessible(true);
            return done;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warnf(
                    "this Quarkus has no QuarkusRequestWrapper.done(): a shutdown waits out quarkus.shutdown.timeout "
                            + "once any Realtime session was opened (%s)",
                    e);
            return null;
        }
    }

    /** The upgraded exchange is over: see {@link #requestDone()}. Quarkus's own method runs once per request. */
    void upgradeOver(io.vertx.core.http.HttpServerRequest request) {
        QuarkusRequestWrapper wrapper = requestDone == null ? null : QuarkusRequestWrapper.get(request);
        if (wrapper == null) {
            return;
        }
        try {
            requestDone.invoke(wrapper);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debugf("could not end an upgraded request for the graceful shutdown: %s", e);
        }
    }

    long shutdownMillis() {
        return shutdownMillis;
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

    /** One handshake on its way through its pool: which members had it, and what the route's retry still allows. */
    private static final class Handshake {
        final RequestLifecycle life;
        final BackendPool pool;
        final Attempt.Rule retry;
        final int maxAttempts;
        final long deadline;
        final String deploymentParameter;
        final LlmTokenLimit.Session budget;
        /** The outbound headers before any member's credential was set: each attempt starts from them. */
        final MultiMap pristine;
        /** Bit i: member i had this handshake. */
        long tried;

        int made;

        Handshake(
                RequestLifecycle life,
                BackendPool pool,
                Attempt.Rule retry,
                String deploymentParameter,
                LlmTokenLimit.Session budget) {
            this.life = life;
            this.pool = pool;
            this.retry = retry;
            this.maxAttempts = retry.maxAttempts(pool.size());
            this.deadline = System.nanoTime() + retry.withinNanos();
            this.deploymentParameter = deploymentParameter;
            this.budget = budget;
            this.pristine =
                    pool.size() > 1 ? MultiMap.caseInsensitiveMultiMap().addAll(life.ctx.outboundHeaders()) : null;
        }
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
        try {
            admitted(life, deploymentParameter);
        } catch (RuntimeException e) {
            closed(); // the place taken above is given back however the opening broke
            throw e;
        }
    }

    private void admitted(RequestLifecycle life, String deploymentParameter) {
        RequestContext ctx = life.ctx;
        LlmTokenLimit.Session budget = tokenLimit.session(ctx);
        if (budget == null) {
            begin(life, deploymentParameter, null);
            return;
        }
        // a spent budget (or quota) refuses the session as it would a request: its status and wait, before any backend
        // is contacted. One token is asked for and given back at once; each response.create is admitted on its own
        budget.admit(1)
                .onComplete(decided -> GatewayHandler.onContext(life.context, () -> {
                    if (decided.failed() || decided.result().refusal() != null) {
                        closed();
                        if (decided.failed()) {
                            LOG.errorf(
                                    decided.cause(),
                                    "token limit failed on route %s; session refused",
                                    ctx.route().name());
                        }
                        refuse(
                                life,
                                decided.failed()
                                        ? RequestRefusal.INTERNAL
                                        : decided.result().refusal());
                        return;
                    }
                    decided.result().reservation().release();
                    begin(life, deploymentParameter, budget);
                }));
    }

    private void begin(RequestLifecycle life, String deploymentParameter, LlmTokenLimit.Session budget) {
        RequestContext ctx = life.ctx;
        if (life.request.response().closed()) {
            closed();
            life.end(Ending.NOT_SENT);
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
        life.timing = new Timing();
        life.timing.received = life.receivedNanos;
        attempt(new Handshake(life, pool, retries.of(ctx.route().name()), deploymentParameter, budget), index);
    }

    private void attempt(Handshake h, int index) {
        RequestLifecycle life = h.life;
        RequestContext ctx = life.ctx;
        Member member = h.pool.member(index, ctx.route().deployment());
        h.tried |= 1L << index;
        h.made++;
        ctx.route(new RequestContext.Route(
                ctx.route().name(), member.backend(), ctx.route().deployment()));
        if (h.made > 1) {
            ctx.outboundHeaders().clear().addAll(h.pristine); // never one member's credential sent to another
        }
        pipeline.attempt(life)
                .onComplete(authorized -> GatewayHandler.onContext(life.context, () -> {
                    if (authorized.succeeded() && authorized.result().proceeds()) {
                        connect(h, member);
                        return;
                    }
                    pools.released(member);
                    if (goesOn(h, member, Attempt.NO_CREDENTIAL)) {
                        return;
                    }
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
                }));
    }

    /**
     * A handshake no backend began a session for may go on to the next member, by the route's retry rule: nothing was
     * generated, so nothing was billed.
     */
    private boolean goesOn(Handshake h, Member failed, Attempt result) {
        if (!h.retry.retries(result)
                || h.made >= h.maxAttempts
                || System.nanoTime() >= h.deadline
                || h.life.request.response().closed()) {
            return false;
        }
        int next = h.pool.pick(h.tried, h.life.ctx.route().deployment(), pools.now());
        if (next < 0) {
            return false;
        }
        pools.retried(h.life.ctx.route().name(), failed, result.why());
        attempt(h, next);
        return true;
    }

    /**
     * The backend's handshake, with aigate's own deadline over it: Vert.x's timeouts do not cover every way a connect
     * can stall (a target it cannot parse is reported to the connection, never to this future), and a stalled one
     * would hold a session's place and the caller's request for ever. A socket that opens after the deadline is closed.
     */
    private Future<WebSocket> connectWithin(Context context, WebSocketConnectOptions options, long millis) {
        Promise<WebSocket> decided = Promise.promise();
        Vertx vertx = context.owner();
        long timer = vertx.setTimer(
                millis + 1000,
                t -> decided.tryFail(new java.util.concurrent.TimeoutException(
                        "no realtime handshake from the backend in " + (millis + 1000) + " ms")));
        client().connect(options).onComplete(connected -> {
            vertx.cancelTimer(timer);
            boolean taken = connected.succeeded()
                    ? decided.tryComplete(connected.result())
                    : decided.tryFail(connected.cause());
            if (!taken && connected.succeeded()) {
                connected.result().close((short) 1001, "aigate gave up waiting");
            }
        });
        return decided.future();
    }

    private void connect(Handshake h, Member member) {
        RequestLifecycle life = h.life;
        RequestContext ctx = life.ctx;
        BackendClients.Backend backend = backends.get(member.backend());
        String query = ctx.outboundQuery();
        String renamed = backend.deploymentName(ctx.route().deployment());
        if (renamed != null) {
            // the backend's own name for the deployment, in the one parameter that names it
            String rest = QueryString.without(query, Set.of(h.deploymentParameter));
            String named = h.deploymentParameter + "=" + renamed;
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
        if (life.timing.firstSentAt == 0) {
            life.timing.firstSentAt = System.nanoTime();
        }
        Context context = life.context;
        connectWithin(context, options, backend.connectTimeoutMillis() + backend.timeoutMillis())
                .onComplete(connected -> GatewayHandler.onContext(context, () -> {
                    if (connected.failed()) {
                        backendFailed(h, member, connected.cause());
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
                                RealtimeSession session = new RealtimeSession(
                                        this, life, upgraded.result(), toBackend, h.budget, context);
                                sessions.add(session);
                                session.start();
                                if (draining) {
                                    session.goingAway();
                                }
                            }));
                }));
    }

    /** The backend refused the handshake, or could not be reached: the next member, or the usual JSON to the caller. */
    private void backendFailed(Handshake h, Member member, Throwable err) {
        RequestLifecycle life = h.life;
        if (err instanceof UpgradeRejectedException rejected) {
            pools.answered(member, rejected.getStatus(), rejected.getHeaders());
            LOG.warnf("backend %s refused a realtime session with status %d", member.backend(), rejected.getStatus());
            if (goesOn(h, member, new Attempt.Answered(rejected.getStatus()))) {
                return;
            }
            closed();
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
        // no session began, whatever the backend had: nothing was generated
        if (goesOn(h, member, new Attempt.NoConnection(timeout))) {
            return;
        }
        closed();
        life.timing.error = Failure.lost(timeout);
        life.end(Ending.NOT_SENT);
        life.refuse(timeout ? RequestRefusal.BACKEND_TIMEOUT : RequestRefusal.BACKEND_UNREACHABLE);
    }

    private static void refuse(RequestLifecycle life, io.aigate.pipeline.Refusal refusal) {
        life.end(Ending.NOT_SENT);
        life.refuse(refusal);
    }
}
