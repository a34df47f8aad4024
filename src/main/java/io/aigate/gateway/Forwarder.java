package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.SseRestorer;
import io.aigate.tokens.TokenEstimator;
import io.aigate.tokens.TokenMetrics;
import io.aigate.tokens.Usage;
import io.aigate.tokens.UsageReader;
import io.netty.channel.ConnectTimeoutException;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends the request to its backend and streams the answer back as it arrives: each chunk (each SSE event) is written
 * to the caller when the backend sends it, with back-pressure both ways. Nothing here blocks.
 */
@Singleton
public class Forwarder {

    private static final Logger LOG = Logger.getLogger(Forwarder.class);
    /** Answers up to this size may be held for the tokens-consumed header; larger ones always flow through. */
    private static final long TOKENS_CONSUMED_MAX_BODY = 4L << 20;
    private static final Set<HttpMethod> BODILESS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.DELETE,
            HttpMethod.OPTIONS);

    /**
     * A backend's connection pools, one per event loop: the connection that carries a request then lives on the same
     * thread as the caller's, so relaying a chunk never hops threads. Each has the backend's own timeouts.
     */
    record Backend(String name, ThreadLocal<HttpClient> clients, List<HttpClient> all, String host, int port,
                   boolean ssl, String basePath, String stripPrefix, long connectTimeoutMillis, long timeoutMillis) {

        HttpClient client() {
            return clients.get();
        }

        String uri(String path, String query) {
            String rest = path;
            if (stripPrefix != null && rest.startsWith(stripPrefix)) {
                rest = rest.substring(stripPrefix.length());
                if (!rest.startsWith("/")) {
                    rest = "/" + rest;
                }
            }
            String full = basePath + rest;
            return query == null || query.isEmpty() ? full : full + '?' + query;
        }
    }

    private final Map<String, Backend> backends = new HashMap<>();
    private final GatewayMetrics metrics;
    private final TokenMetrics tokens;

    Forwarder(AigateConfig config, Vertx vertx, GatewayMetrics metrics, TokenMetrics tokens) {
        this.metrics = metrics;
        this.tokens = tokens;
        config.backends().forEach((name, b) -> {
            URI url = URI.create(b.url().orElseThrow());
            boolean ssl = "https".equalsIgnoreCase(url.getScheme());
            int port = url.getPort() > 0 ? url.getPort() : ssl ? 443 : 80;
            String basePath = url.getRawPath() == null ? "" : url.getRawPath().replaceAll("/+$", "");
            HttpClientOptions options = new HttpClientOptions()
                    .setSsl(ssl)
                    .setVerifyHost(true)
                    .setKeepAlive(true)
                    .setTcpNoDelay(true)
                    .setConnectTimeout((int) b.connectTimeout().toMillis())
                    // the request timeout covers the wait for headers; once a stream flows, a backend that goes silent
                    // for as long is cut off at the connection (just after, so the 504 wins the race before headers)
                    .setReadIdleTimeout((int) b.timeout().toMillis() + 100)
                    .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                    // compressed bodies are relayed as they are; aigate never inflates them itself
                    .setDecompressionSupported(false)
                    .setTryUseCompression(false);
            List<HttpClient> all = new CopyOnWriteArrayList<>();
            ThreadLocal<HttpClient> clients = ThreadLocal.withInitial(() -> {
                HttpClient client = vertx.httpClientBuilder()
                        .with(options)
                        .with(new PoolOptions().setHttp1MaxSize(b.maxConnections()))
                        .build();
                all.add(client);
                return client;
            });
            backends.put(name, new Backend(name, clients, all, url.getHost(), port, ssl, basePath,
                    b.stripPrefix().orElse(null), b.connectTimeout().toMillis(), b.timeout().toMillis()));
        });
    }

    /**
     * @param received {@link System#nanoTime()} when the request body was complete, for the added-time metric
     */
    void forward(RequestContext ctx, HttpServerRequest request, long received) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            ctx.reservation().release(); // the caller left while the pipeline ran: nothing was sent
            return;
        }
        Backend backend = backends.get(ctx.backendName());
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost(backend.host())
                .setPort(backend.port())
                .setSsl(backend.ssl())
                .setURI(backend.uri(ctx.path(), ctx.outboundQuery()))
                .setHeaders(ctx.outboundHeaders())
                .setConnectTimeout(backend.connectTimeoutMillis())
                .setIdleTimeout(backend.timeoutMillis());
        backend.client().request(options).onComplete(connected -> {
            if (connected.failed()) {
                // no connection, so the backend never saw the request: its reservation goes back
                ctx.reservation().release();
                backendFailed(ctx, response, connected.cause());
                return;
            }
            HttpClientRequest outbound = connected.result();
            // a caller that hangs up stops the backend too: it would otherwise go on generating (and billing) tokens
            response.closeHandler(v -> outbound.reset());
            long sentAt = System.nanoTime();
            (ctx.body().length() == 0 && BODILESS.contains(request.method()) ? outbound.send()
                    : outbound.send(ctx.body())).onComplete(answered -> {
                if (answered.failed()) {
                    // sent, then no answer (a timeout, a reset): the backend may have served and billed it
                    ctx.reservation().unknown();
                    backendFailed(ctx, response, answered.cause());
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
            ctx.reservation().unknown(); // the caller left after the backend had the request: it may have served it
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
        metrics.overhead(ctx.routeName(), addedBefore + (System.nanoTime() - headersAt));
        // usage is read from successful answers only: that is what is billed, and it keeps dimensions real
        // (aigate asks for identity encoding; a backend that compresses anyway leaves its usage unreadable, counted as such)
        String encoding = answer.getHeader(HttpHeaders.CONTENT_ENCODING);
        UsageReader usage = answer.statusCode() / 100 == 2 && (encoding == null || encoding.equalsIgnoreCase("identity"))
                ? UsageReader.forContentType(answer.getHeader(HttpHeaders.CONTENT_TYPE)) : null;
        if (usage != null && !usage.isStream() && ctx.tokensConsumedHeader() != null
                && contentLength(answer) <= TOKENS_CONSUMED_MAX_BODY) {
            relayWhole(ctx, response, answer, usage);
            return;
        }
        ReadStream<Buffer> body = answer;
        if (usage != null && ctx.streamUsageAdded() && usage.isStream()) {
            // the caller did not ask for usage: read it, then hide it again (the stream stays theirs, byte for byte)
            SseRestorer restorer = new SseRestorer();
            response.headers().remove(HttpHeaders.CONTENT_LENGTH); // the restored stream is shorter than the sent one
            response.setChunked(request.version() != HttpVersion.HTTP_1_0);
            body = new ObservedStream(answer, chunk -> {
                usage.accept(chunk);
                return restorer.accept(chunk);
            }, restorer::finish);
        } else if (usage != null) {
            body = new ObservedStream(answer, chunk -> {
                usage.accept(chunk);
                return chunk;
            }, Buffer::buffer);
        }
        int status = answer.statusCode();
        body.pipe().endOnFailure(false).to(response)
                .onSuccess(done -> account(ctx, status, usage, false))
                .onFailure(err -> {
                    account(ctx, status, usage, true);
                    cut(ctx, response, answer, err);
                });
    }

    /**
     * A small JSON answer held until complete, so a header can carry the tokens it used (APIM's
     * {@code tokens-consumed-header-name}); only when that header is configured, never for streams.
     */
    private void relayWhole(RequestContext ctx, HttpServerResponse response, HttpClientResponse answer,
                            UsageReader usage) {
        answer.body().onSuccess(whole -> {
            usage.accept(whole);
            Usage used = usage.finish();
            if (used != null && !response.headWritten()) {
                response.putHeader(ctx.tokensConsumedHeader(), Long.toString(used.totalTokens()));
            }
            account(ctx, answer.statusCode(), usage, false);
            response.end(whole);
        }).onFailure(err -> {
            account(ctx, answer.statusCode(), usage, true);
            cut(ctx, response, answer, err);
        });
    }

    private void cut(RequestContext ctx, HttpServerResponse response, HttpClientResponse answer, Throwable err) {
        // never end a cut stream cleanly: the caller must see it was cut, not a short but complete answer
        metrics.cut(ctx.routeName(), ctx.backendName(), response.closed() ? "caller" : "backend");
        if (!response.closed()) {
            LOG.warnf("backend %s: response cut after headers (%s)", ctx.backendName(), describe(err));
            response.reset();
        }
        answer.request().reset();
    }

    /** The answer's declared size; unknown counts as large. */
    private static long contentLength(HttpClientResponse answer) {
        long declared = HopByHop.contentLength(answer.getHeader(HttpHeaders.CONTENT_LENGTH));
        return declared < 0 ? Long.MAX_VALUE : declared;
    }

    /**
     * Counts what an answer used (metrics) and settles the token limit's reservation. Nothing is given back unless the
     * backend refused the request (4xx): a 5xx, an answer whose usage cannot be read (compressed, no usage field,
     * audio) or a cut stream keep at least the reservation, since the backend may have generated and billed it.
     */
    private void account(RequestContext ctx, int status, UsageReader usage, boolean cut) {
        if (usage == null) {
            if (status / 100 == 4) {
                ctx.reservation().release();
            } else {
                if (status / 100 == 2) {
                    tokens.unmeasured(ctx.routeName(), ctx.backendName(), "unreadable");
                }
                ctx.reservation().unknown();
            }
            return;
        }
        Usage reported = usage.finish();
        if (reported != null && !cut) {
            tokens.record(ctx.routeName(), ctx.backendName(), ctx.deployment(), ctx.subscriptionId(), reported, false);
            ctx.reservation().used(reported.totalTokens());
            return;
        }
        tokens.unmeasured(ctx.routeName(), ctx.backendName(), cut ? "cut" : "no_usage_reported");
        if (!usage.isStream()) {
            ctx.reservation().unknown();
            return;
        }
        String model = usage.model() != null ? usage.model() : ctx.deployment();
        long prompt = TokenEstimator.prompt(ctx.json(), model);
        long completion = usage.streamedTokens(model);
        tokens.record(ctx.routeName(), ctx.backendName(), ctx.deployment(), ctx.subscriptionId(),
                new Usage(prompt, completion, prompt + completion, -1, -1), true);
        if (cut) {
            ctx.reservation().atLeast(prompt + completion); // what passed is a floor, not the whole
        } else {
            ctx.reservation().used(prompt + completion);
        }
    }

    private void backendFailed(RequestContext ctx, HttpServerResponse response, Throwable err) {
        boolean timeout = err instanceof TimeoutException || err instanceof ConnectTimeoutException
                || err.getClass().getSimpleName().contains("Timeout");
        LOG.warnf("backend %s: %s (%s)", ctx.backendName(), timeout ? "timed out" : "unreachable", describe(err));
        if (response.headWritten()) {
            response.reset();
            return;
        }
        ApimError.send(response, timeout ? 504 : 502, timeout ? ApimError.GATEWAY_TIMEOUT : ApimError.BAD_GATEWAY,
                Map.of(), false);
    }

    private static String describe(Throwable err) {
        String message = err.getMessage();
        return err.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    void close(@Observes ShutdownEvent event) {
        backends.values().forEach(b -> b.all().forEach(HttpClient::close));
    }
}
