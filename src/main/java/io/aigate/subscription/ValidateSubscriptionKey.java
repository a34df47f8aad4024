package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Caller;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Future;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Layer 1, APIM's subscription check: who is calling. The key comes from {@code Ocp-Apim-Subscription-Key}, else
 * where the SDKs send theirs ({@code api-key}, or {@code Authorization: Bearer aig_…}), else the
 * {@code subscription-key} query parameter. Unknown, inactive, expired and
 * out-of-scope keys all get the same 401, so the answer is no oracle for which keys exist; the reason goes to the log
 * and metrics under the subscription id, never the key.
 */
@Singleton
public class ValidateSubscriptionKey implements Policy.Stateless {

    private static final String BEARER_KEY = "Bearer " + SubscriptionKeys.PREFIX;

    private final boolean required;
    private final String headerName;
    private final String queryParameterName;
    private final boolean acceptSdkHeaders;
    private final Map<String, AigateConfig.Product> products;
    private final SubscriptionLookup lookup;
    private final SubscriptionMetrics metrics;
    private final Clock clock;

    ValidateSubscriptionKey(AigateConfig config, SubscriptionLookup lookup, Clock clock) {
        this.clock = clock;
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
    public Future<Outcome> onRequestHeaders(RequestContext ctx) {
        if (!required) {
            return PROCEED;
        }
        String key = extract(ctx);
        if (key == null || key.isEmpty()) {
            return Future.succeededFuture(refuse(KeyRefusal.MISSING));
        }
        if (!SubscriptionKeys.wellFormed(key)) {
            // not one of ours: no Redis round trip, no cache entry
            return Future.succeededFuture(refuse(KeyRefusal.UNKNOWN));
        }
        return lookup.find(SubscriptionKeys.hash(key)).map(answer -> decide(answer, ctx));
    }

    private Outcome decide(SubscriptionLookup.Answer answer, RequestContext ctx) {
        if (answer instanceof SubscriptionLookup.Unavailable) {
            return refuse(KeyRefusal.STORE_UNAVAILABLE);
        }
        if (!(answer instanceof SubscriptionLookup.Known known)) {
            return refuse(KeyRefusal.UNKNOWN);
        }
        Subscription subscription = known.found().subscription();
        Instant now = clock.instant();
        // known even when refused: the log says whose key it was (never the key)
        ctx.caller(Caller.subscribed(subscription.id(), Set.of()));
        if (subscription.state() != Subscription.State.ACTIVE) {
            return refuse(KeyRefusal.INACTIVE);
        }
        if (!subscription.grantsAccessAt(now)) {
            return refuse(KeyRefusal.EXPIRED);
        }
        if (!inScope(subscription.scope(), ctx)) {
            return refuse(KeyRefusal.OUT_OF_SCOPE);
        }
        metrics.allowed();
        ctx.caller(Caller.subscribed(subscription.id(), subscription.allowedClientApps()));
        ctx.put(TokenLimits.PART, subscription.limits());
        return Outcome.proceed();
    }

    private Outcome refuse(KeyRefusal why) {
        metrics.refused(why);
        return Outcome.refuse(why);
    }

    private boolean inScope(Subscription.Scope scope, RequestContext ctx) {
        return switch (scope.kind()) {
            case ALL -> true;
            case DEPLOYMENTS -> named(scope.names(), ctx.route().deployment());
            case ROUTES -> scope.names().contains(ctx.route().name());
            case PRODUCT -> {
                AigateConfig.Product product =
                        products.get(scope.names().iterator().next());
                // a product this instance does not know opens nothing: fail closed
                List<String> deployments = product == null ? List.of() : product.deployments();
                yield deployments.contains("*")
                        || named(deployments, ctx.route().deployment());
            }
        };
    }

    /** Deployment names compare without regard to case, as Azure and the route table compare them. */
    private static boolean named(java.util.Collection<String> names, String deployment) {
        return deployment != null && names.stream().anyMatch(deployment::equalsIgnoreCase);
    }

    private String extract(RequestContext ctx) {
        String key = ctx.inbound().headers().get(headerName);
        if (key == null && acceptSdkHeaders) {
            key = ctx.inbound().headers().get("api-key");
            if (key == null) {
                String authorization = ctx.inbound().headers().get("Authorization");
                if (authorization != null && authorization.regionMatches(true, 0, BEARER_KEY, 0, BEARER_KEY.length())) {
                    key = authorization.substring("Bearer ".length());
                }
            }
        }
        if (key == null) {
            key = QueryString.first(ctx.inbound().query(), queryParameterName);
        }
        return key == null ? null : key.trim();
    }
}
