package io.aigate.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one object passed along both sections. It never touches the HTTP server objects, so each policy can be tested
 * alone. Each part has one writer; absence is null throughout.
 *
 * <table>
 * <caption>Parts, who writes them and who reads them</caption>
 * <tr><th>part</th><th>written by</th><th>read by</th></tr>
 * <tr><td>{@link #inbound()}: method, path, operation, headers, query as received</td><td>the gateway, at the
 * start; never changes</td><td>every policy</td></tr>
 * <tr><td>{@link #route()}: route, backend, deployment</td><td>the gateway, once the route is known (v1: after
 * the body named the model)</td><td>every policy, the forwarder</td></tr>
 * <tr><td>{@link #body()}, {@link #json()}, {@link #form()}: the bytes and their one strict reading</td><td>the
 * gateway, before the body phase; {@code validate-body-features} and {@code llm-emit-token-metric} may replace the
 * bytes with the tree they were written from</td><td>body phases, the forwarder, the stream estimate</td></tr>
 * <tr><td>{@link #outboundHeaders()}, {@link #outboundQuery()}: what the backend receives</td><td>the gateway
 * (credentials removed); {@code authentication-managed-identity} adds aigate's own</td><td>the forwarder</td></tr>
 * <tr><td>{@link #caller()}</td><td>{@code validate-subscription-key}, {@code validate-jwt}</td><td>see
 * {@link Caller}</td></tr>
 * <tr><td>{@link #responseHeaders()}</td><td>{@code llm-token-limit} (remaining tokens)</td><td>the forwarder</td></tr>
 * <tr><td>{@link Part}s: what one layer tells another in its own types (a subscription's limits, what the answer
 * used)</td><td>where each part is declared, it says</td><td>later policies, the audit line, the spans</td></tr>
 * </table>
 */
public final class RequestContext {

    /**
     * What the caller sent, as the gateway read it.
     *
     * @param path            the raw path, already checked to stay inside its route
     * @param operation       the path below the API root ({@code chat/completions}), as the route's operations name it
     * @param generatesTokens whether the operation makes the model work (inference), so a token budget applies
     * @param headers         the caller's headers as received (credentials included): read-only for policies
     * @param query           the query string as received (may carry a subscription key), or null
     */
    public record Inbound(
            String method, String path, String operation, boolean generatesTokens, MultiMap headers, String query) {}

    /**
     * Where the request goes.
     *
     * @param deployment the Azure OpenAI deployment (classic path) or the v1 body's {@code model}, in lower case (Azure
     *                   matches names without regard to case); null when the request names none
     */
    public record Route(String name, String backend, String deployment) {}

    /**
     * What one layer tells a later one in its own type (what a policy keeps for itself is in its instance), declared as a
     * constant by the package that owns the type (so this ground package needs to know none of them). A lookup is an
     * array index.
     */
    public static final class Part<T> {
        private static final int CAPACITY = 8;
        private static final AtomicInteger DECLARED = new AtomicInteger();
        private final int index;
        private final String name;

        private Part(String name) {
            this.name = name;
            this.index = DECLARED.getAndIncrement();
            if (index >= CAPACITY) {
                throw new IllegalStateException("more than " + CAPACITY + " request parts declared; raise CAPACITY");
            }
        }

        public static <T> Part<T> declare(String name) {
            return new Part<>(name);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final Route NO_ROUTE = new Route(null, null, null);

    private final Inbound inbound;
    private final String outboundQuery;
    private final MultiMap outboundHeaders;
    private Route route = NO_ROUTE;
    /** Null until a body is set: a shared empty Buffer would be a Netty buffer in the native image heap. */
    private Buffer body;

    private ObjectNode json;
    private MultipartForm form;
    private Caller caller = Caller.UNKNOWN;
    private MultiMap responseHeaders;
    private boolean mayHaveBeenServed;
    private final Object[] parts = new Object[Part.CAPACITY];

    /**
     * @param outboundQuery   the query string the backend will receive: caller credentials removed, the rest byte for
     *                        byte
     * @param outboundHeaders the headers the backend will receive: caller credentials and hop-by-hop headers removed
     */
    public RequestContext(Inbound inbound, String outboundQuery, MultiMap outboundHeaders) {
        this.inbound = inbound;
        this.outboundQuery = outboundQuery;
        this.outboundHeaders = outboundHeaders;
    }

    public Inbound inbound() {
        return inbound;
    }

    public Route route() {
        return route;
    }

    public void route(Route known) {
        this.route = known;
    }

    /** The bytes, and the one strict reading of them that every policy judges (null when the body is not JSON). */
    public void body(Buffer bytes, ObjectNode parsed) {
        this.body = bytes;
        this.json = parsed;
    }

    public Buffer body() {
        if (body == null) {
            body = Buffer.buffer(0);
        }
        return body;
    }

    /** The request body as one strict JSON reading (duplicate fields refused); null when the body is not JSON. */
    public ObjectNode json() {
        return json;
    }

    /** A form body's one strict reading; set with its bytes by the gateway. */
    public void form(Buffer bytes, MultipartForm parsed) {
        this.body = bytes;
        this.form = parsed;
    }

    /** The body as one strict multipart reading; null when the body is not a form. */
    public MultipartForm form() {
        return form;
    }

    /**
     * A policy that must change what the backend receives (e.g. to ask for usage) replaces the whole body, with the tree
     * it was written from: a later one (a pool member's rename) starts from what will be sent, not what came.
     */
    public void replaceBody(Buffer newBody, ObjectNode newJson) {
        this.body = newBody;
        this.json = newJson;
    }

    public String outboundQuery() {
        return outboundQuery;
    }

    public MultiMap outboundHeaders() {
        return outboundHeaders;
    }

    public Caller caller() {
        return caller;
    }

    public void caller(Caller known) {
        this.caller = known;
    }

    /** Headers a policy adds to the answer the caller receives (e.g. the tokens left); null until one is added. */
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
     * An attempt was sent and got no answer aigate relayed (a timeout after sending): that backend may have served
     * the request, and billed it, whatever a later attempt answers. Set by the forwarder, read where cost is settled.
     */
    public void mayHaveBeenServed() {
        this.mayHaveBeenServed = true;
    }

    public boolean mayHaveBeenServedBefore() {
        return mayHaveBeenServed;
    }

    /** The part's value, or null when nothing wrote it. */
    @SuppressWarnings("unchecked")
    public <T> T get(Part<T> part) {
        return (T) parts[part.index];
    }

    public <T> void put(Part<T> part, T value) {
        parts[part.index] = value;
    }
}
