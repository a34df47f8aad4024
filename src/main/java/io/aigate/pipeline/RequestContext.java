package io.aigate.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

import java.util.Set;

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
    private final String operation;
    private final boolean generatesTokens;
    private final MultiMap outboundHeaders;
    private final long receivedNanos;
    private Buffer body = EMPTY;
    private ObjectNode json;
    private String routeName;
    private String backendName;
    private String deployment;

    private String subscriptionId;
    private Set<String> allowedClientApps = Set.of();
    private String clientAppId;
    private boolean streamUsageAdded;
    private TokenLimits tokenLimits = TokenLimits.NONE;
    private MultiMap responseHeaders;
    private Reservation reservation = Reservation.NONE;
    private String tokensConsumedHeader;

    private static final Buffer EMPTY = Buffer.buffer(0);

    /**
     * @param operation       the path below the API root ({@code chat/completions}), as the route's operations name it
     * @param generatesTokens whether the operation makes the model work (inference), so a token budget applies
     */
    public RequestContext(String method, String path, String operation, boolean generatesTokens,
                          MultiMap inboundHeaders, String rawQuery, String outboundQuery, MultiMap outboundHeaders,
                          long receivedNanos) {
        this.method = method;
        this.path = path;
        this.operation = operation;
        this.generatesTokens = generatesTokens;
        this.inboundHeaders = inboundHeaders;
        this.rawQuery = rawQuery;
        this.outboundQuery = outboundQuery;
        this.outboundHeaders = outboundHeaders;
        this.receivedNanos = receivedNanos;
    }

    /** Written by the gateway once the route is known (for v1 requests, after the body named the deployment). */
    public void route(String routeName, String backendName, String deployment) {
        this.routeName = routeName;
        this.backendName = backendName;
        this.deployment = deployment;
    }

    /**
     * Written by the gateway once the body is read: the bytes, and the one strict reading of them that every step
     * judges (null when the body is not JSON, e.g. multipart audio).
     */
    public void body(Buffer bytes, ObjectNode parsed) {
        this.body = bytes;
        this.json = parsed;
    }

    /** The request body as one strict JSON reading (duplicate fields refused); null when the body is not JSON. */
    public ObjectNode json() {
        return json;
    }

    public String operation() {
        return operation;
    }

    public boolean generatesTokens() {
        return generatesTokens;
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

    /**
     * The Azure OpenAI deployment (classic path) or the v1 body's {@code model}, in lower case (Azure matches names
     * without regard to case); null when the request names none.
     */
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

    /** The reservation a step made ({@link Reservation#NONE} if none), settled by whichever way the request ends. */
    public Reservation reservation() {
        return reservation;
    }

    public void reserve(Reservation made) {
        this.reservation = made;
    }

    /** The header that should carry the tokens an answer used, when the answer is small enough to wait for; or null. */
    public String tokensConsumedHeader() {
        return tokensConsumedHeader;
    }

    public void tokensConsumedHeader(String name) {
        this.tokensConsumedHeader = name;
    }
}
