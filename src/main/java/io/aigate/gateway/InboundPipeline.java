package io.aigate.gateway;

import io.aigate.jwt.ValidateJwt;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Step;
import io.aigate.subscription.ValidateSubscriptionKey;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.LlmTokenLimit;
import io.vertx.core.Future;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.function.Supplier;

/**
 * The {@code <inbound>} section: the steps every request passes, in order, before it is forwarded. The first step that
 * answers ends the request; the backend is contacted only after the last step says continue.
 *
 * <pre>
 * &lt;inbound&gt;
 *   &lt;validate-subscription-key /&gt;                      layer 1: who is calling (Redis, cached)
 *   &lt;validate-jwt /&gt;                                   layer 2: what they may do (Entra ID token, claims)
 *   -- the body is received here, once the route is known and the steps above let it in --
 *   &lt;validate-body-features /&gt;                         what the body reaches beyond tokens (route grants)
 *   &lt;llm-token-limit counter-key="…" /&gt;                 can their budget take it (Redis, fleet-wide)
 *   &lt;llm-emit-token-metric /&gt;                          make sure the answer carries its usage
 * &lt;/inbound&gt;
 * </pre>
 *
 * Layer 3, aigate's own credential ({@code authentication-managed-identity}), is set for the pool member that is
 * about to be asked, so it runs in the {@code <backend>} section ({@link Forwarder}). What happens to the answer is
 * the {@link OutboundPipeline}.
 */
@Singleton
public class InboundPipeline {

    private final List<Step> steps;

    InboundPipeline(
            ValidateSubscriptionKey validateSubscriptionKey,
            ValidateJwt validateJwt,
            ValidateBodyFeatures validateBodyFeatures,
            LlmTokenLimit llmTokenLimit,
            LlmEmitTokenMetric llmEmitTokenMetric) {
        this.steps =
                List.of(validateSubscriptionKey, validateJwt, validateBodyFeatures, llmTokenLimit, llmEmitTokenMetric);
    }

    /**
     * @param receiveBody reads the body into the context (or refuses it) before the first step that needs it; for a
     *                    request whose route is in its body it has already run and answers continue
     */
    Future<Outcome> run(RequestContext ctx, Supplier<Future<Outcome>> receiveBody) {
        return run(ctx, 0, receiveBody);
    }

    private Future<Outcome> run(RequestContext ctx, int index, Supplier<Future<Outcome>> receiveBody) {
        if (index == steps.size()) {
            return receiveBody == null ? Future.succeededFuture(Outcome.proceed()) : receiveBody.get();
        }
        Step step = steps.get(index);
        if (step.needsBody() && receiveBody != null) {
            return receiveBody.get().compose(o -> o.proceeds() ? run(ctx, index, null) : Future.succeededFuture(o));
        }
        Future<Outcome> outcome;
        try {
            outcome = step.apply(ctx);
        } catch (RuntimeException e) {
            // fail closed: a step that breaks refuses the request rather than letting it through
            return Future.failedFuture(e);
        }
        return outcome.compose(o -> o.proceeds() ? run(ctx, index + 1, receiveBody) : Future.succeededFuture(o));
    }
}
