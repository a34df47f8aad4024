package io.aigate.gateway;

import io.aigate.backends.BackendPool;
import io.aigate.backends.BackendPools;
import io.aigate.backends.Member;
import io.aigate.backends.PoolRefusal;
import io.aigate.pipeline.Answer;
import io.aigate.pipeline.ContentLength;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Errors;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ConnectionPoolTooBusyException;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.streams.ReadStream;
import jakarta.inject.Singleton;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * The {@code <backend>} section: sends the request to a member of its route's pool and streams the answer back as it
 * arrives: each chunk (each SSE event) is written to the caller when the backend sends it, with back-pressure both
 * ways. Nothing here blocks. How each request ended goes to {@link RequestLifecycle#end}, whose {@link OutboundPipeline} decides what it
 * used and cost; the pools' choices and breakers are {@link BackendPools}, the connections {@link BackendClients}.
 *
 * <pre>
 * &lt;backend&gt;
 *   &lt;retry count="route's retry.count" within="retry.within"
 *          condition="before the answer's first byte reached the caller: a status of retry.status-code-ranges (429,
 *                     5xx), no connection; no answer in time or a connection lost after sending if retry.unanswered"&gt;
 *     &lt;set-backend-service backend-id="the route's pool" /&gt;   a member not resting, not tried: lowest priority
 *                                                               group first, by weight; none → 429/503, no call
 *     &lt;authentication-managed-identity /&gt;                       that member's credential, never another's
 *     &lt;forward-request /&gt;                                       its URL, its name for the deployment
 *   &lt;/retry&gt;
 * &lt;/backend&gt;
 * </pre>
 */
@Singleton
public class Forwarder {

    private static final Logger LOG = Logger.getLogger(Forwarder.class);
    private static final Set<HttpMethod> BODILESS =
            Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE, HttpMethod.OPTIONS);

    private final BackendClients backends;
    private final BackendPools pools;
    private final InboundPipeline pipeline;
    private final GatewayMetrics metrics;
    private final Tracing tracing;
    private final RetryRules retries;

    Forwarder(
            RetryRules retries,
            BackendClients backends,
            BackendPools pools,
            InboundPipeline pipeline,
            GatewayMetrics metrics,
            Tracing tracing) {
        this.tracing = tracing;
        this.backends = backends;
        this.pools = pools;
        this.pipeline = pipeline;
        this.metrics = metrics;
        this.retries = retries;
    }

    /** One request on its way through its pool. */
    private static final class Attempts {
        final RequestLifecycle life;
        final RequestContext ctx;
        final HttpServerRequest request;
        final BackendPool pool;
        final Attempt.Rule retry;
        final int maxAttempts;
        final long deadline;
        /** The outbound headers before any member's credential was set: each attempt starts from them. */
        final MultiMap pristine;
        /** Bit i: member i had this request. */
        long tried;

        int made;
        /** When the first attempt was sent (time spent on members that failed is theirs, not aigate's), and more. */
        final Timing timing;

        Attempts(RequestLifecycle life, BackendPool pool, Attempt.Rule retry) {
            this.life = life;
            this.ctx = life.ctx;
            this.request = life.request;
            this.pool = pool;
            this.timing = new Timing();
            timing.received = life.bodyDone;
            life.timing = timing;
            this.retry = retry;
            this.maxAttempts = retry.maxAttempts(pool.size());
            this.deadline = System.nanoTime() + retry.withinNanos();
            this.pristine = pool.size() > 1 ? HttpHeaders.headers().addAll(ctx.outboundHeaders()) : null;
        }

        /** Another attempt may start: within the bounds, and with a caller still waiting. */
        boolean mayRetry() {
            return made < maxAttempts
                    && System.nanoTime() < deadline
                    && !request.response().closed();
        }
    }

    /**
     * Sends a request the inbound section let through. Every way this ends calls {@link RequestLifecycle#end} once:
     * relayed or cut in {@link #relay}, and otherwise where aigate gives up (every member resting, no credential, no
     * backend answer).
     */
    void forward(RequestLifecycle life) {
        RequestContext ctx = life.ctx;
        HttpServerRequest request = life.request;
        life.enter(RequestLifecycle.State.ATTEMPTING);
        if (request.response().closed()) {
            life.end(Ending.NOT_SENT); // the caller left while the pipeline ran: nothing was sent
            return;
        }
        BackendPool pool = pools.get(ctx.route().backend());
        Attempts attempts = new Attempts(life, pool, retries.of(ctx.route().name()));
        int first = pool.pick(0, ctx.route().deployment(), pools.now());
        if (first < 0) {
            life.end(Ending.NOT_SENT);
            PoolRefusal resting = pool.resting(ctx.route().deployment(), pools.now());
            pools.unavailable(ctx.route().name(), resting);
            refuse(attempts, resting);
            return;
        }
        attempt(attempts, first);
    }

    /** aigate answers the caller itself. */
    private static void refuse(Attempts a, Refusal refusal) {
        a.life.refuse(refusal);
    }

    /** The next member, if the request may go on to one (taking it, as its probe if it was resting); else -1. */
    private int another(Attempts a) {
        return a.mayRetry() ? a.pool.pick(a.tried, a.ctx.route().deployment(), pools.now()) : -1;
    }

    private void attempt(Attempts a, int index) {
        Member member = a.pool.member(index, a.ctx.route().deployment());
        a.tried |= 1L << index;
        a.made++;
        RequestContext ctx = a.ctx;
        ctx.route(new RequestContext.Route(
                ctx.route().name(), member.backend(), ctx.route().deployment()));
        if (a.made > 1) {
            ctx.outboundHeaders().clear().addAll(a.pristine); // never one member's credential sent to another
        }
        if (a.life.span != null) {
            a.timing.clientSpan = tracing.client(a.life.span, ctx, a.made);
        }
        pipeline.attempt(a.life)
                .onComplete(authorized -> GatewayHandler.onContext(a.life.context, () -> {
                    if (authorized.succeeded() && authorized.result().proceeds()) {
                        send(a, member);
                        return;
                    }
                    pools.released(member);
                    if (goesOn(a, member, Attempt.NO_CREDENTIAL)) {
                        return;
                    }
                    gaveUp(a);
                    Refusal refusal =
                            authorized.succeeded() ? authorized.result().refusal() : RequestRefusal.INTERNAL;
                    if (authorized.failed()) {
                        LOG.errorf(
                                authorized.cause(),
                                "credential for backend %s failed; request refused",
                                member.backend());
                    }
                    refuse(a, refusal);
                }));
    }

    private void send(Attempts a, Member member) {
        RequestContext ctx = a.ctx;
        HttpServerRequest request = a.request;
        HttpServerResponse response = request.response();
        if (response.closed()) {
            pools.released(member);
            gaveUp(a);
            return;
        }
        BackendClients.Backend backend = backends.get(member.backend());
        String path = ctx.inbound().path();
        Buffer body = ctx.body();
        String renamed = backend.deploymentName(ctx.route().deployment());
        if (renamed != null) {
            String classic = RequestTarget.withDeployment(path, renamed);
            if (classic != null) {
                path = classic;
            } else {
                // v1: the deployment is the body's model (a form's field, or the JSON one)
                body = ctx.form() != null
                        ? ctx.form().withModel(body, renamed)
                        : ctx.json() != null ? JsonBody.withModel(ctx.json(), renamed) : null;
                if (body == null) {
                    // sent as it came, the backend would serve (or bill) the caller's name for the deployment
                    pools.released(member);
                    gaveUp(a);
                    refuse(a, RequestRefusal.NOT_RENAMEABLE);
                    return;
                }
            }
        }
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost(backend.host())
                .setPort(backend.port())
                .setSsl(backend.ssl())
                .setURI(backend.uri(path, ctx.outboundQuery()))
                .setHeaders(ctx.outboundHeaders())
                .setFollowRedirects(false) // the default, said: a redirect is the backend's answer, never followed
                .setConnectTimeout(backend.connectTimeoutMillis())
                .setIdleTimeout(backend.timeoutMillis());
        Buffer sent = body;
        backend.client().request(options).onComplete(connected -> {
            if (connected.failed() && connected.cause() instanceof ConnectionPoolTooBusyException) {
                // aigate's own bound on connections, not the backend's doing: its breaker never hears of it
                pools.released(member);
                if (goesOn(a, member, Attempt.BUSY)) {
                    return;
                }
                gaveUp(a);
                a.timing.error = Failure.BUSY;
                refuse(a, RequestRefusal.BACKEND_BUSY);
                return;
            }
            if (connected.failed()) {
                // no connection: this backend never saw the request
                if (noAnswer(a, member, new Attempt.NoConnection(timedOut(connected.cause())))) {
                    return;
                }
                gaveUp(a);
                backendFailed(a, connected.cause());
                return;
            }
            HttpClientRequest sending = connected.result();
            if (response.closed()) {
                // the caller left while the connection opened: nothing is sent to be generated (and billed) for no one
                sending.reset();
                pools.released(member);
                gaveUp(a);
                return;
            }
            // a caller that hangs up stops the backend too: it would otherwise go on generating (and billing) tokens
            response.closeHandler(v -> sending.reset());
            if (a.timing.firstSentAt == 0) {
                a.timing.firstSentAt = System.nanoTime();
            }
            (sent.length() == 0 && BODILESS.contains(request.method()) ? sending.send() : sending.send(sent))
                    .onComplete(answered -> {
                        if (answered.failed() && response.closed()) {
                            pools.released(member);
                            a.life.end(Ending.UNANSWERED); // the caller left, and took the backend's request with it
                            metrics.cut(ctx.route().name(), member.backend(), "caller");
                        } else if (answered.failed()) {
                            // sent, then no answer (a timeout, a reset): the backend may have served it
                            ctx.mayHaveBeenServed();
                            if (noAnswer(a, member, new Attempt.Unanswered(timedOut(answered.cause())))) {
                                return;
                            }
                            a.life.end(Ending.UNANSWERED);
                            backendFailed(a, answered.cause());
                        } else {
                            HttpClientResponse answer = answered.result();
                            pools.answered(member, answer.statusCode(), answer.headers());
                            int status = answer.statusCode();
                            if (a.timing.clientSpan != null) {
                                Tracing.answered(a.timing.clientSpan, status);
                            }
                            if (!relayable(status)) {
                                notRelayed(a, answer, status);
                                return;
                            }
                            // nothing of this answer reached the caller yet: the next member may answer instead
                            if (goesOn(a, member, new Attempt.Answered(status))) {
                                // read to its end so the connection is reused, unless it goes silent
                                AnswerSilence silence = AnswerSilence.watch(answer, null, backend.timeoutMillis());
                                answer.handler(chunk -> silence.heard())
                                        .endHandler(end -> silence.over())
                                        .exceptionHandler(err -> silence.over());
                                return;
                            }
                            relay(a.life, answer, backend.timeoutMillis());
                        }
                    });
        });
    }

    /**
     * Whether an answer may reach the caller: a final status that is no redirect and no proxy's challenge. Vert.x
     * itself handles 100 Continue and 103 Early Hints; any other 1xx (101 Switching Protocols among them) arrives here
     * as if it were the answer, and what follows it on the wire is no answer to this request.
     */
    static boolean relayable(int status) {
        return (status >= 200 && status < 300) || (status >= 400 && status < 600 && status != 407);
    }

    /**
     * The backend answered with something aigate never relays: the caller gets 502 and none of the answer (no
     * Location, no Set-Cookie, no body). The connection is closed, never reused: after an interim status or a
     * protocol switch it carries no answer aigate can frame. The backend had the request, so what it cost is unknown.
     */
    private void notRelayed(Attempts a, HttpClientResponse answer, int status) {
        answer.exceptionHandler(reset -> {}); // the reset below is aigate's own doing, not news
        answer.request().reset();
        RequestRefusal refusal = RequestRefusal.backendAnswer(status);
        a.timing.error = Failure.unrelayable(status);
        metrics.notRelayed(a.ctx.route().name(), a.ctx.route().backend(), a.timing.error.tag());
        LOG.warnf(
                "backend %s answered status %d, which is never relayed; the caller gets 502",
                a.ctx.route().backend(), status);
        a.life.end(Ending.UNANSWERED);
        refuse(a, refusal);
    }

    /** No answer from this member (no connection, or none in time): the breaker hears of it; the next may try. */
    private boolean noAnswer(Attempts a, Member member, Attempt result) {
        pools.unanswered(member, result.timedOut());
        return goesOn(a, member, result);
    }

    /**
     * The retry: the request goes to the next member that may take it, if the route's rule retries this result and
     * its bounds allow another attempt.
     *
     * @return whether it went on (false: this attempt's outcome is the request's)
     */
    private boolean goesOn(Attempts a, Member failed, Attempt result) {
        if (!a.retry.retries(result)) {
            return false;
        }
        int next = another(a);
        if (next < 0) {
            return false;
        }
        failedAttempt(a, result.errorType());
        pools.retried(a.ctx.route().name(), failed, result.why());
        attempt(a, next);
        return true;
    }

    /** An attempt that is given up for the next member: its span ends here. */
    private static void failedAttempt(Attempts a, String errorType) {
        if (a.timing.clientSpan != null) {
            Tracing.failed(a.timing.clientSpan, errorType);
            a.timing.clientSpan = null;
        }
    }

    /** The request ends here without an answer from any member: what it cost depends on whether one may have served. */
    private static void gaveUp(Attempts a) {
        a.life.end(a.ctx.mayHaveBeenServedBefore() ? Ending.UNANSWERED : Ending.NOT_SENT);
    }

    /** By type: Vert.x's request timeout is a TimeoutException, Netty's connect and read timeouts have their own. */
    private static boolean timedOut(Throwable err) {
        return err instanceof TimeoutException
                || err instanceof ConnectTimeoutException
                || err instanceof io.netty.handler.timeout.TimeoutException;
    }

    /** @param timeoutMillis how long the answer may go silent: its backend's {@code timeout} */
    private void relay(RequestLifecycle life, HttpClientResponse answer, long timeoutMillis) {
        long headersAt = System.nanoTime();
        RequestContext ctx = life.ctx;
        HttpServerRequest request = life.request;
        Timing timing = life.timing;
        HttpServerResponse response = request.response();
        if (response.closed()) {
            life.end(Ending.UNANSWERED); // the caller left after the backend had the request
            answer.request().reset();
            return;
        }
        life.enter(RequestLifecycle.State.RELAYING);
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
        timing.backendNanos = headersAt - timing.firstSentAt;
        timing.aigateNanos = timing.firstSentAt - timing.received + (System.nanoTime() - headersAt);
        metrics.overhead(ctx.route().name(), timing.aigateNanos);
        Answer head;
        try {
            head = OutboundPipeline.answer(
                    life,
                    new Answer(
                            answer.statusCode(),
                            answer.headers(),
                            response.headers(),
                            ContentLength.parse(answer.headers().get(HttpHeaders.CONTENT_LENGTH))));
        } catch (RuntimeException e) {
            // fail closed: an answer no policy could judge is not relayed; the backend had the request
            LOG.errorf(
                    e,
                    "answer from backend %s could not be judged; the caller gets 500",
                    ctx.route().backend());
            answer.request().reset();
            life.end(Ending.UNANSWERED);
            response.headers().clear(); // none of the backend's headers goes out with aigate's own answer
            life.refuse(RequestRefusal.INTERNAL);
            return;
        }
        AnswerSilence silence = AnswerSilence.watch(answer, request, timeoutMillis);
        ReadStream<Buffer> body = new ObservedStream(answer, head.chunk(), head.tail(), silence);
        if (head.holdsWhole()) {
            relayWhole(life, answer, body, silence);
            return;
        }
        if (head.rewrites()) {
            response.headers().remove(HttpHeaders.CONTENT_LENGTH); // what is relayed is shorter than what came
            response.setChunked(request.version() != HttpVersion.HTTP_1_0);
        }
        body.pipe()
                .endOnFailure(false)
                .to(response)
                .onSuccess(done -> {
                    silence.over();
                    life.end(Ending.ANSWERED);
                })
                .onFailure(err -> {
                    silence.over();
                    life.end(Ending.CUT);
                    cut(life, answer, err);
                });
    }

    /** An answer held until complete: the policies' ends run first, so they can still set its headers. */
    private void relayWhole(
            RequestLifecycle life, HttpClientResponse answer, ReadStream<Buffer> body, AnswerSilence silence) {
        HttpServerResponse response = life.request.response();
        Buffer whole = Buffer.buffer();
        body.exceptionHandler(err -> {
            silence.over();
            life.end(Ending.CUT);
            cut(life, answer, err);
        });
        body.endHandler(done -> {
            silence.over();
            life.end(Ending.ANSWERED).onComplete(ended -> response.end(whole));
        });
        body.handler(whole::appendBuffer);
    }

    private void cut(RequestLifecycle life, HttpClientResponse answer, Throwable err) {
        RequestContext ctx = life.ctx;
        HttpServerRequest request = life.request;
        Timing timing = life.timing;
        HttpServerResponse response = request.response();
        // a write to the caller fails before its connection counts as closed: only a failure of the answer itself is
        // the backend's, and only then is there a caller left to tell
        boolean backend = err instanceof ObservedStream.SourceFailure && !response.closed();
        metrics.cut(ctx.route().name(), ctx.route().backend(), backend ? "backend" : "caller");
        if (backend) {
            timing.error = Failure.CUT;
            LOG.warnf(
                    "backend %s: response cut after headers (%s)",
                    ctx.route().backend(), Errors.describe(err.getCause()));
            abort(request);
        }
        answer.request().reset();
    }

    private void backendFailed(Attempts a, Throwable err) {
        RequestContext ctx = a.ctx;
        HttpServerRequest request = a.request;
        HttpServerResponse response = request.response();
        boolean timeout = timedOut(err);
        LOG.warnf(
                "backend %s: %s (%s)",
                ctx.route().backend(), timeout ? "timed out" : "unreachable", Errors.describe(err));
        a.timing.error = Failure.lost(timeout);
        if (response.headWritten()) {
            abort(request);
            return;
        }
        refuse(a, timeout ? RequestRefusal.BACKEND_TIMEOUT : RequestRefusal.BACKEND_UNREACHABLE);
    }

    /**
     * Ends an answer so that the caller sees it broken, never short but complete. On HTTP/1.x the connection is
     * closed rather than the response reset: Vert.x then reports the close like any other, and the request counts as
     * finished; a reset response never does, and the shutdown would wait out its whole timeout for it. Vert.x's close
     * first flushes what is queued, which a caller that stopped reading never lets happen: that caller's channel is
     * closed at once, as Vert.x closes an idle one. On HTTP/2 only the stream is reset, so the caller's other streams
     * go on.
     */
    static void abort(HttpServerRequest request) {
        if (request.version() == HttpVersion.HTTP_2) {
            request.response().reset();
        } else if (request.response().writeQueueFull() && request.connection() instanceof ConnectionBase connection) {
            connection.channelHandlerContext().close();
        } else {
            request.connection().close();
        }
    }
}
