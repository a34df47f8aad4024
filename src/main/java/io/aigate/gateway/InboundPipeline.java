package io.aigate.gateway;

import io.aigate.identity.AuthenticationManagedIdentity;
import io.aigate.jwt.ValidateJwt;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.aigate.subscription.ValidateSubscriptionKey;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.LlmTokenLimit;
import io.vertx.core.Future;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * The pipeline: every policy a request passes, in order, and its request-side phases. The first policy that refuses
 * ends the request; the backend is contacted only after the last one says continue. The {@link OutboundPipeline} runs
 * the same instances, in reverse, over the answer.
 *
 * <pre>
 * &lt;inbound&gt;                                        request headers
 *   &lt;validate-subscription-key /&gt;                      layer 1: who is calling (Redis, cached)
 *   &lt;validate-jwt /&gt;                                   layer 2: what they may do (Entra ID token, claims)
 *   -- the body is received here, once the route is known and the policies above let it in --
 *                                                    request body
 *   &lt;validate-body-features /&gt;                         what the body reaches beyond tokens (route grants)
 *   &lt;llm-token-limit counter-key="…" /&gt;                 can their budget take it (Redis, fleet-wide)
 *   &lt;llm-emit-token-metric /&gt;                          make sure the answer carries its usage
 * &lt;/inbound&gt;
 * &lt;backend&gt;                                        each attempt ({@link Forwarder})
 *   &lt;authentication-managed-identity /&gt;              layer 3: the pool member's own credential
 * &lt;/backend&gt;
 * </pre>
 */
@Singleton
public class InboundPipeline {

    /** A request-side phase of a policy's instance. */
    interface Phase {
        Future<Outcome> run(Policy.Instance instance, RequestContext ctx);
    }

    private final List<Policy> policies;

    InboundPipeline(
            ValidateSubscriptionKey validateSubscriptionKey,
            ValidateJwt validateJwt,
            ValidateBodyFeatures validateBodyFeatures,
            LlmTokenLimit llmTokenLimit,
            LlmEmitTokenMetric llmEmitTokenMetric,
            AuthenticationManagedIdentity authenticationManagedIdentity) {
        this.policies = List.of(
                validateSubscriptionKey,
                validateJwt,
                validateBodyFeatures,
                llmTokenLimit,
                llmEmitTokenMetric,
                authenticationManagedIdentity);
    }

    /** Each policy's instance for one request, in order. */
    Policy.Instance[] open(RequestContext ctx) {
        Policy.Instance[] instances = new Policy.Instance[policies.size()];
        for (int i = 0; i < instances.length; i++) {
            instances[i] = policies.get(i).open(ctx);
        }
        return instances;
    }

    /** What the headers say, before a body byte is held. */
    Future<Outcome> requestHeaders(RequestLifecycle life) {
        return run(life.policies, life.ctx, Policy.Instance::onRequestHeaders);
    }

    /** What the body says, once it is read. */
    Future<Outcome> requestBody(RequestLifecycle life) {
        return run(life.policies, life.ctx, Policy.Instance::onRequestBody);
    }

    /** Before each attempt, for the member about to be asked. */
    Future<Outcome> attempt(RequestLifecycle life) {
        return run(life.policies, life.ctx, Policy.Instance::onAttempt);
    }

    static Future<Outcome> run(Policy.Instance[] instances, RequestContext ctx, Phase phase) {
        return Phases.run(
                instances.length,
                i -> decided(phase.run(instances[i], ctx)),
                done -> done.succeeded() && done.result().proceeds(),
                Policy.PROCEED);
    }

    /**
     * A phase that completes with no outcome has failed, as one that throws has: it is refused (fails closed) instead
     * of leaving the request paused for ever, waiting on a decision nobody will make.
     */
    private static Future<Outcome> decided(Future<Outcome> outcome) {
        if (outcome == null) {
            return undecided();
        }
        if (!outcome.isComplete()) {
            return outcome.compose(o -> o == null ? undecided() : outcome);
        }
        return outcome.succeeded() && outcome.result() == null ? undecided() : outcome;
    }

    private static Future<Outcome> undecided() {
        return Future.failedFuture(new IllegalStateException("a policy decided nothing"));
    }
}
