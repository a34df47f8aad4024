package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Step;
import io.vertx.core.Future;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Layer 1, APIM's subscription check: who is calling. The key comes from {@code Ocp-Apim-Subscription-Key}, else
 * where the SDKs send theirs ({@code api-key}, or {@code Authorization: Bearer aig_…}), else the
 * {@code subscription-key} query parameter. Unknown, inactive, expired and
 * out-of-scope keys all get the same 401, so the answer is no oracle for which keys exist; the reason goes to the log
 * and metrics under the subscription id, never the key.
 */
@Singleton
public class ValidateSubscriptionKey implements Step {

    static final String MISSING = "Access denied due to missing subscription key. Make sure to include subscription "
            + "key when making requests to an API.";
    static final String INVALID = "Access denied due to invalid subscription key. Make sure to provide a valid key "
            + "for an active subscription.";
    static final String UNAVAILABLE = "Subscription keys cannot be checked right now. Try again in 5 seconds.";

    private static final String BEARER_KEY = "Bearer " + SubscriptionKeys.PREFIX;
    private static final Future<Outcome> PROCEED = Future.succeededFuture(Outcome.proceed());

    private final boolean required;
    private final String headerName;
    private final String queryParameterName;
    private final boolean acceptSdkHeaders;
    private final Map<String, AigateConfig.Product> products;
    private final SubscriptionLookup lookup;
    private final SubscriptionMetrics metrics;

    ValidateSubscriptionKey(AigateConfig config, SubscriptionLookup lookup) {
        AigateConfig.SubscriptionKey keys = config.subscriptionKey();
        this.required = keys.required();
        this.headerName = keys.headerName();
        this.queryParameterName = keys.queryParameterName();
        this.acceptSdkHeaders = keys.acceptSdkHeaders();
        this.products = config.products();
        this.lookup = lookup;
        this.metrics = lookup.metrics();
    }

    @Override
    public String name() {
        return "validate-subscription-key";
    }

    @Override
    public Future<Outcome> apply(RequestContext ctx) {
        if (!required) {
            return PROCEED;
        }
        String key = extract(ctx);
        if (key == null || key.isEmpty()) {
            metrics.decision(SubscriptionMetrics.Decision.MISSING);
            return Future.succeededFuture(Outcome.respond(401, MISSING, "key_missing"));
        }
        if (!SubscriptionKeys.wellFormed(key)) {
            // not one of ours: no Redis round trip, no cache entry
            return Future.succeededFuture(refuse(SubscriptionMetrics.Decision.UNKNOWN));
        }
        return lookup.find(SubscriptionKeys.hash(key)).map(answer -> decide(answer, ctx));
    }

    private Outcome decide(SubscriptionLookup.Answer answer, RequestContext ctx) {
        if (answer instanceof SubscriptionLookup.Unavailable unavailable) {
            metrics.decision(SubscriptionMetrics.Decision.STORE_UNAVAILABLE);
            return Outcome.respond(503, UNAVAILABLE, "key_store_unavailable", Map.of("Retry-After", "5"));
        }
        if (!(answer instanceof SubscriptionLookup.Known known)) {
            return refuse(SubscriptionMetrics.Decision.UNKNOWN);
        }
        Subscription subscription = known.found().subscription();
        Instant now = Instant.now();
        // known even when refused: the log says whose key it was (never the key)
        ctx.subscriptionId(subscription.id());
        if (subscription.state() != Subscription.State.ACTIVE) {
            return refuse(SubscriptionMetrics.Decision.INACTIVE);
        }
        if (!subscription.grantsAccessAt(now)) {
            return refuse(SubscriptionMetrics.Decision.EXPIRED);
        }
        if (!inScope(subscription.scope(), ctx)) {
            return refuse(SubscriptionMetrics.Decision.OUT_OF_SCOPE);
        }
        metrics.decision(SubscriptionMetrics.Decision.ALLOWED);
        ctx.allowedClientApps(subscription.allowedClientApps());
        ctx.tokenLimits(subscription.limits());
        return Outcome.proceed();
    }

    private Outcome refuse(SubscriptionMetrics.Decision why) {
        metrics.decision(why);
        return Outcome.respond(401, INVALID, "key_" + why.name().toLowerCase());
    }

    private boolean inScope(Subscription.Scope scope, RequestContext ctx) {
        return switch (scope.kind()) {
            case ALL -> true;
            case DEPLOYMENTS -> named(scope.names(), ctx.deployment());
            case ROUTES -> scope.names().contains(ctx.routeName());
            case PRODUCT -> {
                AigateConfig.Product product = products.get(scope.names().iterator().next());
                // a product this instance does not know opens nothing: fail closed
                List<String> deployments = product == null ? List.of() : product.deployments();
                yield deployments.contains("*") || named(deployments, ctx.deployment());
            }
        };
    }

    /** Deployment names compare without regard to case, as Azure and the route table compare them. */
    private static boolean named(java.util.Collection<String> names, String deployment) {
        return deployment != null && names.stream().anyMatch(deployment::equalsIgnoreCase);
    }

    private String extract(RequestContext ctx) {
        String key = ctx.inboundHeaders().get(headerName);
        if (key == null && acceptSdkHeaders) {
            key = ctx.inboundHeaders().get("api-key");
            if (key == null) {
                String authorization = ctx.inboundHeaders().get("Authorization");
                if (authorization != null && authorization.regionMatches(true, 0, BEARER_KEY, 0, BEARER_KEY.length())) {
                    key = authorization.substring("Bearer ".length());
                }
            }
        }
        if (key == null) {
            key = QueryString.first(ctx.rawQuery(), queryParameterName);
        }
        return key == null ? null : key.trim();
    }
}
