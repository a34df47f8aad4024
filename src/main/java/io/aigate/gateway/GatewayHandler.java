package io.aigate.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.ContentLength;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.MultipartForm;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.Refusal;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.GenAiMetrics;
import io.aigate.tokens.TokenEstimator;
import io.quarkus.runtime.Startup;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The data path, top to bottom: check the request target and method, match a route and operation, run the inbound
 * pipeline (which receives the body, bounded, once the header checks let it in), forward. A v1 request names its
 * deployment in the body, so there the body comes first. Every refusal is an APIM-style JSON answer, and none of them
 * reaches a backend.
 */
@Startup
@ApplicationScoped
public class GatewayHandler {

    private static final String SERVER_TIMING = "Server-Timing";
    /** What Azure OpenAI's data plane uses; TRACE, CONNECT and inventions never reach a backend. */
    private static final Set<HttpMethod> ALLOWED_METHODS = Set.of(
            HttpMethod.GET,
            HttpMethod.POST,
            HttpMethod.PUT,
            HttpMethod.PATCH,
            HttpMethod.DELETE,
            HttpMethod.HEAD,
            HttpMethod.OPTIONS);

    private static final Logger LOG = Logger.getLogger(GatewayHandler.class);

    private final RouteTable routes;
    private final InboundPipeline pipeline;
    private final Forwarder forwarder;
    private final Tracing tracing;
    private final RequestLifecycle.Recorder recorder;
    private final long maxBodyBytes;
    private final RequestRefusal tooLarge;
    private final long receiveTimeoutMillis;
    private final BufferedBodies buffered;
    private final Realtime realtime;
    /** A Realtime session's query: a caller's credential may ride in it too (browsers cannot set headers). */
    private final Set<String> droppedRealtimeParameters;

    private final Set<String> droppedHeaders;
    private final Set<String> droppedQueryParameters;
    /** Query parameters aigate decides on: each may appear once, else a backend could read another one. */
    private final Set<String> decidingQueryParameters;

    GatewayHandler(
            AigateConfig config,
            InboundPipeline pipeline,
            Forwarder forwarder,
            GatewayMetrics metrics,
            BufferedBodies buffered,
            AuditLog audit,
            GenAiMetrics genAi,
            Tracing tracing,
            Realtime realtime) {
        this.tracing = tracing;
        this.realtime = realtime;
        this.recorder = new RequestLifecycle.Recorder(metrics, audit, genAi, tracing, buffered);
        this.buffered = buffered;
        this.receiveTimeoutMillis = config.request().receiveTimeout().toMillis();
        this.routes = new RouteTable(config.routes(), config.enabledRoutes().orElse(null));
        this.pipeline = pipeline;
        this.forwarder = forwarder;
        this.maxBodyBytes = config.request().maxBodySize().asLongValue();
        this.tooLarge = RequestRefusal.tooLarge(maxBodyBytes);
        // every header a caller credential can arrive in; Set.copyOf folds the names configured to the defaults
        this.droppedHeaders = HopByHop.caseless(List.of(
                "authorization",
                "api-key",
                config.subscriptionKey().headerName().toLowerCase(Locale.ROOT),
                config.jwt().headerName().toLowerCase(Locale.ROOT)));
        this.droppedQueryParameters =
                Set.of(config.subscriptionKey().queryParameterName().toLowerCase(Locale.ROOT));
        this.decidingQueryParameters = Set.copyOf(List.of(
                "api-version", config.subscriptionKey().queryParameterName().toLowerCase(Locale.ROOT)));
        java.util.Set<String> realtimeDropped = new java.util.HashSet<>(droppedQueryParameters);
        realtimeDropped.addAll(Realtime.CREDENTIAL_PARAMETERS);
        this.droppedRealtimeParameters = Set.copyOf(realtimeDropped);
    }

    void handle(HttpServerRequest request) {
        // held until the body phase, so nothing of it is read (or lost) while the header checks run
        request.pause();
        RequestLifecycle life = new RequestLifecycle(request, RequestId.of(request.headers()), recorder);
        if (tracing.on()) {
            life.span = tracing.server(request);
        }
        request.response().headersEndHandler(v -> headersEnd(life));
        RequestTarget target = RequestTarget.parse(request.uri());
        if (target.kind() == RequestTarget.Kind.INVALID) {
            refuse(life, RequestRefusal.INVALID_TARGET);
            return;
        }
        QueryString.Reading query = QueryString.read(target.query(), droppedQueryParameters, decidingQueryParameters);
        if (query.repeated() != null) {
            refuse(life, RequestRefusal.REPEATED_PARAMETER);
            return;
        }
        if (target.kind() == RequestTarget.Kind.NOT_FOUND) {
            refuse(life, RequestRefusal.NOT_FOUND);
            return;
        }
        if (!ALLOWED_METHODS.contains(request.method())) {
            refuse(life, RequestRefusal.METHOD_NOT_ALLOWED);
            return;
        }
        if (contentLength(request) > maxBodyBytes) {
            refuse(life, tooLarge);
            return;
        }
        String method = request.method().name();
        String operation = target.operation();
        if (target.kind() == RequestTarget.Kind.REALTIME
                || (target.kind() == RequestTarget.Kind.V1
                        && RequestTarget.REALTIME.equals(operation)
                        && request.method() == HttpMethod.GET)) {
            session(life, target);
            return;
        }
        RequestContext ctx = new RequestContext(
                new RequestContext.Inbound(
                        method,
                        target.path(),
                        operation,
                        Operations.generatesTokens(method, operation),
                        request.headers(),
                        target.query()),
                query.forwarded(),
                outboundHeaders(request, life.requestId));
        life.ctx = ctx;
        boolean jsonBody = Operations.jsonInference(method, operation);
        if (target.kind() == RequestTarget.Kind.V1 && Operations.mayNameModel(method)) {
            // the body may name the deployment: it is received first (within the shared bound and the deadline)
            ModelIn model = Operations.modelAddressed(method, operation) ? ModelIn.BODY : ModelIn.BODY_IF_ANY;
            then(life, receive(life, jsonBody, model), () -> {
                if (routed(life, bodyModel(ctx))) {
                    then(
                            life,
                            pipeline.requestHeaders(life),
                            () -> then(life, pipeline.requestBody(life), () -> {
                                forwarder.forward(life);
                            }));
                }
            });
            return;
        }
        if (routed(life, target.kind() == RequestTarget.Kind.CLASSIC ? target.deployment() : null)) {
            then(
                    life,
                    pipeline.requestHeaders(life),
                    () -> then(life, receive(life, jsonBody, ModelIn.PATH), () -> {
                        then(life, pipeline.requestBody(life), () -> forwarder.forward(life));
                    }));
        }
    }

    /**
     * A Realtime session's upgrade, judged as any request is (route, operation, the header phases), before any backend
     * is contacted; the deployment is named in the query ({@code deployment}, or {@code model} on the v1 API), once.
     */
    private void session(RequestLifecycle life, RequestTarget target) {
        HttpServerRequest request = life.request;
        if (request.method() != HttpMethod.GET) {
            refuse(life, RequestRefusal.METHOD_NOT_ALLOWED);
            return;
        }
        String upgrade = request.headers().get(HttpHeaders.UPGRADE);
        if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            refuse(life, RequestRefusal.REALTIME_NOT_UPGRADE);
            return;
        }
        String parameter = target.kind() == RequestTarget.Kind.REALTIME ? "deployment" : "model";
        QueryString.Reading query =
                QueryString.read(target.query(), droppedRealtimeParameters, Set.of(parameter, "api-version"));
        String named = QueryString.first(target.query(), parameter);
        if (query.repeated() != null || named == null || !RequestTarget.validDeploymentName(named)) {
            refuse(life, RequestRefusal.REALTIME_DEPLOYMENT);
            return;
        }
        if (QueryString.hasOtherThan(query.forwarded(), Set.of(parameter, "api-version"))) {
            // intent=transcription, the other API's deployment name, …: the backend would act on what aigate did not
            // judge (another deployment, a session of another kind), so only what was judged is forwarded
            refuse(life, RequestRefusal.REALTIME_QUERY);
            return;
        }
        RequestContext ctx = new RequestContext(
                new RequestContext.Inbound(
                        "GET", target.path(), RequestTarget.REALTIME, false, request.headers(), target.query()),
                query.forwarded(),
                outboundHeaders(request, life.requestId));
        life.ctx = ctx;
        if (routed(life, named)) {
            then(life, pipeline.requestHeaders(life), () -> realtime.open(life, parameter));
        }
    }

    /**
     * The one way from a phase to the next: on the request's own event loop (a policy that waited on Redis or Entra ID
     * completes on another thread, and the HTTP request may only be touched from its own), and only if the phase said
     * continue; a refusal, or a phase that failed, ends the request here.
     */
    private static void then(RequestLifecycle life, Future<Outcome> phase, Runnable next) {
        phase.onComplete(decided -> onContext(life.context, () -> {
            if (decided.succeeded() && decided.result().proceeds()) {
                try {
                    next.run();
                } catch (RuntimeException e) {
                    // fail closed, and still end: a request whose next step broke is settled and recorded like any
                    LOG.errorf(e, "request on route %s failed; refused", life.route());
                    if (!life.request.response().headWritten()) {
                        refuse(life, RequestRefusal.INTERNAL);
                    } else {
                        life.end(Ending.NOT_SENT);
                    }
                }
                return;
            }
            if (decided.failed()) {
                LOG.errorf(decided.cause(), "pipeline failed on route %s; request refused", life.route());
            }
            refuse(
                    life,
                    decided.failed()
                            ? RequestRefusal.INTERNAL
                            : decided.result().refusal());
        }));
    }

    /** aigate answers before any backend had the request. */
    private static void refuse(RequestLifecycle life, Refusal refusal) {
        life.end(Ending.NOT_SENT);
        life.refuse(refusal);
    }

    /** Where the request names its deployment. */
    private enum ModelIn {
        /** the classic path, or nowhere (v1 without a body): the body is not asked */
        PATH,
        /** the v1 body's model, which the operation requires */
        BODY,
        /** the v1 body's model if it has one (else the {@code *} route) */
        BODY_IF_ANY
    }

    /** The deployment the one reading of a v1 body named, or null: JSON's {@code model} or the form's field. */
    private static String bodyModel(RequestContext ctx) {
        if (ctx.form() != null) {
            return ctx.form().model();
        }
        JsonNode model = ctx.json() == null ? null : ctx.json().get("model");
        return model == null ? null : model.textValue();
    }

    /** Matches the route and operation the request names; false when it named none that is served (refused). */
    private boolean routed(RequestLifecycle life, String named) {
        RequestContext ctx = life.ctx;
        String deployment = named == null ? null : RouteTable.fold(named);
        life.deployment = deployment;
        RouteTable.Route route = routes.match(deployment);
        String template = route == null
                ? null
                : route.operations()
                        .template(ctx.inbound().method(), ctx.inbound().operation());
        if (template == null) {
            // an operation the route does not name is as absent as a deployment it does not serve
            refuse(life, RequestRefusal.NOT_FOUND);
            return false;
        }
        ctx.put(GenAiMetrics.OPERATION, GenAiMetrics.operationName(template));
        ctx.route(new RequestContext.Route(route.name(), route.backend(), deployment));
        // only now: a request refused before its route is known had nothing a policy must settle
        life.policies = pipeline.open(ctx);
        if (life.span != null) {
            tracing.routed(life.span, ctx);
        }
        return true;
    }

    /**
     * Runs {@code work} on the request's event loop: a step that waited on Redis or Entra ID completes on another
     * thread, and the HTTP request may only be touched from its own. The one way the data path gets back there.
     */
    static void onContext(Context context, Runnable work) {
        if (context == null || Vertx.currentContext() == context) {
            work.run();
        } else {
            context.runOnContext(v -> work.run());
        }
    }

    /**
     * Receives the body: never sized by what the caller declares, within the request's own limit, the bytes all
     * requests may hold together, and a deadline; then reads it once, strictly, for every step to judge.
     *
     * @param jsonBody the operation's body must be a JSON object
     * @param model    where the deployment is named
     */
    private Future<Outcome> receive(RequestLifecycle life, boolean jsonBody, ModelIn model) {
        HttpServerRequest request = life.request;
        life.enter(RequestLifecycle.State.RECEIVING);
        Promise<Outcome> received = Promise.promise();
        if ("100-continue".equalsIgnoreCase(request.headers().get(HttpHeaders.EXPECT))) {
            // curl and others wait for this before sending a body; without it every large request waits a second
            request.response().writeContinue();
        }
        Buffer body = Buffer.buffer();
        Vertx vertx = Vertx.currentContext().owner();
        long deadline = vertx.setTimer(
                receiveTimeoutMillis, t -> received.tryComplete(Outcome.refuse(RequestRefusal.BODY_TIMEOUT)));
        request.handler(chunk -> {
            if (received.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > maxBodyBytes) {
                received.tryComplete(Outcome.refuse(tooLarge));
            } else if (!life.hold(chunk.length())) {
                received.tryComplete(Outcome.refuse(RequestRefusal.BODIES_OVER_BOUND));
            } else {
                life.bodyBytes += chunk.length();
                body.appendBuffer(chunk);
            }
        });
        request.exceptionHandler(err -> {
            LOG.debugf("request body not received: %s", err.getMessage());
            received.tryComplete(Outcome.refuse(RequestRefusal.BODY_INCOMPLETE));
        });
        request.endHandler(v -> {
            if (received.future().isComplete()) {
                return; // refused while it arrived: its end is not read, and takes nothing more of the bound
            }
            life.bodyDone = System.nanoTime();
            received.tryComplete(read(life.ctx, body, jsonBody, model, buffered.parsing(life)));
        });
        request.resume();
        return received.future().onComplete(done -> vertx.cancelTimer(deadline));
    }

    /**
     * The one reading of the body: JSON where the operation is JSON or the caller says so, a form where the caller
     * says that, strictly; a body aigate cannot read one way only is refused, never forwarded as it came.
     */
    private Outcome read(RequestContext ctx, Buffer body, boolean jsonBody, ModelIn model, JsonBody.Budget budget) {
        String type = ctx.inbound().headers().get(HttpHeaders.CONTENT_TYPE);
        if (ctx.inbound().headers().getAll(HttpHeaders.CONTENT_TYPE).size() > 1) {
            return Outcome.refuse(RequestRefusal.TYPE_REPEATED); // which one does the backend read?
        }
        if (!jsonBody && MultipartForm.declared(type)) {
            MultipartForm.Parsed form = MultipartForm.parse(type, body);
            if (!form.ok()) {
                return Outcome.refuse(RequestRefusal.unreadable(form.problem()));
            }
            if (model != ModelIn.PATH && !nameable(form.form().model(), model)) {
                return Outcome.refuse(RequestRefusal.MODEL_UNREADABLE);
            }
            ctx.form(body, form.form());
            return Outcome.proceed();
        }
        if (body.length() > 0 && formUrlEncoded(type)) {
            return Outcome.refuse(RequestRefusal.URLENCODED);
        }
        if (!jsonBody && (body.length() == 0 || !declaresJson(type))) {
            ctx.body(body, null);
            return Outcome.proceed();
        }
        JsonBody.Parsed parsed = JsonBody.parse(body, budget);
        if (!parsed.ok()) {
            return Outcome.refuse(
                    switch (parsed.problem()) {
                        case PARSED_TOO_LARGE -> RequestRefusal.parsedTooLarge(budget.maxParsedBytes());
                        case OVER_SHARED_BOUND -> RequestRefusal.BODIES_OVER_BOUND;
                        default -> RequestRefusal.unreadable(parsed.problem());
                    });
        }
        String numbers = TokenEstimator.invalidNumbers(parsed.object());
        if (numbers != null) {
            return Outcome.refuse(RequestRefusal.unreadable(numbers));
        }
        if (model != ModelIn.PATH) {
            JsonNode named = parsed.object().get("model");
            if ((named == null && spelledOtherwise(parsed.object()))
                    || (named != null && !named.isTextual())
                    || !nameable(named == null ? null : named.textValue(), model)) {
                return Outcome.refuse(RequestRefusal.MODEL_UNREADABLE);
            }
        }
        ctx.body(body, parsed.object());
        return Outcome.proceed();
    }

    /** A deployment name, or none where the operation may name none. */
    private static boolean nameable(String model, ModelIn where) {
        return model == null ? where == ModelIn.BODY_IF_ANY : RequestTarget.validDeploymentName(model);
    }

    /** {@code Model} or {@code MODEL} without {@code model}: a backend that binds names without regard to case reads it. */
    private static boolean spelledOtherwise(com.fasterxml.jackson.databind.node.ObjectNode body) {
        for (java.util.Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            if (names.next().equalsIgnoreCase("model")) {
                return true;
            }
        }
        return false;
    }

    private static boolean formUrlEncoded(String contentType) {
        return contentType != null
                && contentType.toLowerCase(Locale.ROOT).trim().startsWith("application/x-www-form-urlencoded");
    }

    /** JSON by its media type, or a body that says nothing about itself (read as JSON, as a backend would try). */
    private static boolean declaresJson(String contentType) {
        if (contentType == null) {
            return true;
        }
        String type = contentType.toLowerCase(Locale.ROOT);
        int end = type.indexOf(';');
        type = (end < 0 ? type : type.substring(0, end)).trim();
        return type.equals("application/json") || type.endsWith("+json") || type.equals("text/plain");
    }

    /**
     * Just before the answer's headers go out, whoever wrote them: the request id, and how long aigate took against
     * how long the backend did, so a caller can tell aigate's cost from the model's (for a stream: to its first byte).
     */
    private static void headersEnd(RequestLifecycle life) {
        life.headersAt = System.nanoTime();
        MultiMap headers = life.request.response().headers();
        headers.set(RequestId.CLIENT_HEADER, life.requestId);
        // a backend's own Server-Timing stays: aigate's entries are added to it
        headers.add(SERVER_TIMING, Timing.serverTiming(life.timing, life.headersAt - life.receivedNanos));
    }

    /** Deployment names come from callers: only a short, plain form reaches the log. */
    static String printable(String deployment) {
        if (deployment == null) {
            return "-";
        }
        String plain = deployment.replaceAll("[^A-Za-z0-9._-]", "?");
        return plain.length() > 64 ? plain.substring(0, 64) + "…" : plain;
    }

    /**
     * The caller's headers minus credentials and hop-by-hop ones; answers are asked for without compression, so
     * aigate can read the usage of every answer it relays (on loopback, compression saves the caller nothing).
     */
    private MultiMap outboundHeaders(HttpServerRequest request, String requestId) {
        MultiMap headers = HopByHop.requestHeaders(request.headers(), droppedHeaders);
        headers.set(HttpHeaders.ACCEPT_ENCODING, HttpHeaders.IDENTITY);
        headers.set(RequestId.CLIENT_HEADER, requestId);
        return headers;
    }

    private static long contentLength(HttpServerRequest request) {
        return ContentLength.parse(request.headers().get(HttpHeaders.CONTENT_LENGTH));
    }
}
