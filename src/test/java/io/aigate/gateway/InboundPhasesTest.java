package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.aigate.testing.Requests;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The {@code <inbound>} section's promise without a socket: a policy that refuses stops the ones after it, and one
 * that breaks (throws, answers no future, or decides nothing, at once or later) fails the phase, which the gateway
 * refuses; none of them leaves a request waiting or lets it through.
 */
class InboundPhasesTest {

    final RequestContext ctx = Requests.chat(HttpHeaders.headers(), "default", "aoai", "gpt-4o");
    final List<String> ran = new ArrayList<>();

    Policy.Instance policy(String name, Supplier<Future<Outcome>> decision) {
        return new Policy.Instance() {
            @Override
            public Future<Outcome> onRequestHeaders(RequestContext ctx) {
                ran.add(name);
                return decision.get();
            }
        };
    }

    Future<Outcome> headers(Policy.Instance... instances) {
        return InboundPipeline.run(instances, ctx, Policy.Instance::onRequestHeaders);
    }

    @Test
    void everyPolicyRunsInOrderWhileEachProceeds() {
        Future<Outcome> result = headers(policy("a", () -> Policy.PROCEED), policy("b", () -> Policy.PROCEED));
        assertTrue(result.succeeded() && result.result().proceeds());
        assertEquals(List.of("a", "b"), ran);
    }

    @Test
    void aRefusalStopsThePoliciesAfterIt() {
        Future<Outcome> result = headers(
                policy("a", () -> Future.succeededFuture(Outcome.refuse(RequestRefusal.INTERNAL))),
                policy("b", () -> Policy.PROCEED));
        assertTrue(result.succeeded());
        assertFalse(result.result().proceeds());
        assertEquals(List.of("a"), ran);
    }

    @Test
    void aPolicyThatDecidesNothingFailsThePhase() {
        assertBroken(() -> Future.succeededFuture(null));
    }

    @Test
    void aPolicyThatDecidesNothingLaterFailsThePhase() {
        Promise<Outcome> later = Promise.promise();
        Future<Outcome> result = headers(policy("a", later::future), policy("b", () -> Policy.PROCEED));
        assertFalse(result.isComplete());
        later.complete(null);
        assertTrue(result.failed(), "a phase completed without an outcome must fail, not hang or proceed");
        assertEquals(List.of("a"), ran);
    }

    @Test
    void aPolicyThatAnswersNoFutureFailsThePhase() {
        assertBroken(() -> null);
    }

    @Test
    void aPolicyThatThrowsFailsThePhase() {
        assertBroken(() -> {
            throw new IllegalStateException("broken");
        });
    }

    void assertBroken(Supplier<Future<Outcome>> decision) {
        Future<Outcome> result = headers(policy("a", decision), policy("b", () -> Policy.PROCEED));
        assertTrue(result.failed(), "a broken policy must fail the phase");
        assertEquals(List.of("a"), ran, "no policy after a broken one runs");
    }
}
