package io.aigate.gateway;

import io.aigate.pipeline.Answer;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Future;
import org.jboss.logging.Logger;

/**
 * The {@code <outbound>} section: the same instances the {@link InboundPipeline} opened, in reverse order, over the
 * answer. The {@link Forwarder} relays bytes; every decision about what an answer used and cost is made here, by the
 * policies' instances. Every request that reached the pipeline passes {@link #end} exactly once
 * ({@link RequestLifecycle#end}), whether it was answered, cut, never sent or sent and unanswered.
 *
 * <pre>
 * &lt;outbound&gt;                                     the backend answered (headers in, body flowing)
 *   &lt;llm-emit-token-metric /&gt;   read the usage as the body passes; hide stream usage the caller did not ask for;
 *                               at the end, count what was used (reported, or counted from a stream) → Consumption
 *   &lt;llm-token-limit /&gt;         charge that Consumption against the reservation; for an answer small enough to
 *                               hold, put its exact total in tokens-consumed-header-name
 * &lt;/outbound&gt;
 * &lt;on-error&gt;                                     no answer: refused, never sent, or sent and unanswered
 *   &lt;llm-token-limit /&gt;         give the reservation back only if the backend never had the request
 * &lt;/on-error&gt;
 * </pre>
 *
 * <p>Headers the inbound policies want on the answer (remaining tokens) are in
 * {@link RequestContext#responseHeaders()}.
 */
final class OutboundPipeline {

    private static final Logger LOG = Logger.getLogger(OutboundPipeline.class);

    private OutboundPipeline() {}

    /** The answer's head is in: each policy says how its body is to pass. */
    static Answer answer(RequestLifecycle life, Answer answer) {
        for (int i = life.policies.length - 1; i >= 0; i--) {
            life.policies[i].onAnswer(life.ctx, answer);
        }
        return answer;
    }

    /** The request is over: each policy settles it, one after the other; a policy that fails does not stop the rest. */
    static Future<Void> end(Policy.Instance[] instances, RequestContext ctx, Ending ending) {
        int last = instances.length - 1;
        return Phases.run(
                instances.length,
                i -> instances[last - i].onEnd(ctx, ending),
                done -> {
                    if (done.failed()) {
                        LOG.errorf(
                                done.cause(),
                                "a policy failed to settle a request on route %s",
                                ctx.route().name());
                    }
                    return true;
                },
                Policy.DONE);
    }
}
