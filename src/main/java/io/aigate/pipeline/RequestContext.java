package io.aigate.pipeline;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.util.Set;
import java.util.function.LongConsumer;

/**
 * The one object passed along the pipeline. Steps read the caller's request from it and write what the backend must
 * receive into {@link #outboundHeaders()}; they never touch the HTTP server objects, so each step can be tested alone.
 */
public final class RequestContext {

    private final String method;
    private final String path;
    private final MultiMap inboundHeaders;
    private final String rawQuery;
    private final String outboundQuery;
    private Buffer body;
    private final String routeName;
    private final String backendName;
    private final String deployment;
    private final MultiMap outboundHeaders;
    private final long receivedNanos;

    private String subscriptionId;
    private Set<String> allowedClientApps = Set.of();
    private String clientAppId;
    private boolean streamUsageAdded;
    private TokenLimits tokenLimits = TokenLimits.NONE;
    private MultiMap responseHeaders;
    private LongConsumer settlement;
    private String tokensConsumedHeader;

    public RequestContext(String method, String path, MultiMap inboundHeaders, String rawQuery, String outboundQuery, Buffer body,
                          String routeName, String backendName, String deployment, MultiMap outboundHeaders,
                          long receivedNanos) {
        this.method = method;
        this.path = path;
        this.inboundHeaders = inboundHeaders;
        this.rawQuery = rawQuery;
        this.outboundQuery = outboundQuery;
        this.body = body;
        this.routeName = routeName;
        this.backendName = backendName;
        this.deployment = deployment;
        this.outboundHeaders = outboundHeaders;
        this.receivedNanos = receivedNanos;
    }

    public String method() {
        return method;
    }

    /** The raw request path, already checked to stay inside its route. */
    public String path() {
        return path;
    }

    /** The caller's headers as received (credentials included): read-only for steps. */
    public MultiMap inboundHeaders() {
        return inboundHeaders;
    }

    /** The caller's query string as received (may carry a subscription key), or null. */
    public String rawQuery() {
        return rawQuery;
    }

    /** The query string the backend will receive: caller credentials removed, everything else byte for byte. */
    public String outboundQuery() {
        return outboundQuery;
    }

    public Buffer body() {
        return body;
    }

    /** A step that must change what the backend receives (e.g. to ask for usage) replaces the whole body. */
    public void replaceBody(Buffer newBody) {
        this.body = newBody;
    }

    /** Whether aigate asked the backend for stream usage the caller did not ask for (and must hide it again). */
    public boolean streamUsageAdded() {
        return streamUsageAdded;
    }

    public void streamUsageAdded(boolean added) {
        this.streamUsageAdded = added;
    }

    public String routeName() {
        return routeName;
    }

    public String backendName() {
        return backendName;
    }

    /** The Azure OpenAI deployment (classic path) or the v1 body's {@code model}; null when the request names none. */
    public String deployment() {
        return deployment;
    }

    /** Headers the backend will receive; caller credentials are already removed. */
    public MultiMap outboundHeaders() {
        return outboundHeaders;
    }

    public long receivedNanos() {
        return receivedNanos;
    }

    public String subscriptionId() {
        return subscriptionId;
    }

    public void subscriptionId(String id) {
        this.subscriptionId = id;
    }

    /** Client application ids the subscription is bound to; empty when any application may use it. */
    public Set<String> allowedClientApps() {
        return allowedClientApps;
    }

    public void allowedClientApps(Set<String> ids) {
        this.allowedClientApps = Set.copyOf(ids);
    }

    public String clientAppId() {
        return clientAppId;
    }

    public void clientAppId(String id) {
        this.clientAppId = id;
    }

    /** The token limits of the caller's subscription (empty when it sets none, or there is no subscription). */
    public TokenLimits tokenLimits() {
        return tokenLimits;
    }

    public void tokenLimits(TokenLimits limits) {
        this.tokenLimits = limits == null ? TokenLimits.NONE : limits;
    }

    /** Headers a step adds to the answer the caller receives (e.g. the tokens left); null until one is added. */
    public MultiMap responseHeaders() {
        return responseHeaders;
    }

    public void addResponseHeader(String name, String value) {
        if (responseHeaders == null) {
            responseHeaders = MultiMap.caseInsensitiveMultiMap();
        }
        responseHeaders.set(name, value);
    }

    /**
     * Registers what must happen once the request's token use is known — a reservation made before forwarding is
     * reconciled with the real usage. One settlement per request.
     */
    public void onSettle(LongConsumer settlement) {
        this.settlement = settlement;
    }

    /**
     * Tells the step that reserved tokens what the request really used: the tokens, 0 when the backend did no work
     * (refused, unreachable, caller gone before forwarding), or -1 when unknown (keep the reservation). Only the
     * first call counts, so every way out of a request may call it.
     */
    public void settle(long tokens) {
        LongConsumer s = settlement;
        settlement = null;
        if (s != null) {
            s.accept(tokens);
        }
    }

    /** The header that should carry the tokens an answer used, when the answer is small enough to wait for; or null. */
    public String tokensConsumedHeader() {
        return tokensConsumedHeader;
    }

    public void tokensConsumedHeader(String name) {
        this.tokensConsumedHeader = name;
    }
}
