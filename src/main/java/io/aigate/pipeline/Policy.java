package io.aigate.pipeline;

import io.vertx.core.Future;

/**
 * One APIM policy, named after the policy it reproduces, in both directions. The policy itself is shared by every
 * request (its configuration, its stores); each request gets an {@link Instance} from {@link #open}, which keeps what
 * the policy holds for that request alone (a reservation, whether it asked for usage) and is dropped with it. As
 * Envoy makes a filter per stream from one filter config, or Spring Cloud Gateway passes each exchange through
 * {@code filter(exchange, chain)}.
 *
 * <p>The gateway calls the instances in the order of the pipeline for the request's phases, and in the reverse order
 * for the answer's, as APIM's {@code <outbound>} section mirrors its {@code <inbound>}. Every phase runs on the
 * request's event loop and must not block: a phase that needs I/O returns a future that completes later; one that
 * decides at once returns a completed one ({@link #PROCEED}), which costs nothing to chain. A phase that throws
 * refuses the request (fail closed).
 */
public interface Policy {

    Future<Outcome> PROCEED = Future.succeededFuture(Outcome.proceed());
    Future<Void> DONE = Future.succeededFuture();

    /** The APIM name used in logs, metrics and the audit line, e.g. {@code authentication-managed-identity}. */
    String name();

    /**
     * This policy's part in one request: a new instance when the policy keeps something for the request, else a
     * shared one (a policy without per-request state is its own instance).
     */
    Instance open(RequestContext ctx);

    /**
     * A policy that keeps nothing for a request: it is its own instance, shared by every request, so its phases must
     * read only the request's context.
     */
    interface Stateless extends Policy, Instance {
        @Override
        default Instance open(RequestContext ctx) {
            return this;
        }
    }

    /** One request's instance. Each phase does nothing unless the policy acts in it. */
    interface Instance {

        /**
         * {@code <inbound>}, before a single body byte is held: a caller without a valid key or token never gets to
         * make aigate hold its upload. (A v1 request names its deployment in the body, so there the body is read
         * first, within the same bounds.)
         */
        default Future<Outcome> onRequestHeaders(RequestContext ctx) {
            return PROCEED;
        }

        /** {@code <inbound>}, once the body was received and read once, strictly ({@link RequestContext#json()}). */
        default Future<Outcome> onRequestBody(RequestContext ctx) {
            return PROCEED;
        }

        /**
         * {@code <backend>}, before each attempt: {@link RequestContext#route()} names the pool member about to be
         * asked, and {@link RequestContext#outboundHeaders()} are as the inbound section left them.
         */
        default Future<Outcome> onAttempt(RequestContext ctx) {
            return PROCEED;
        }

        /** {@code <outbound>}: the head of the answer that will be relayed is in; its body has not begun. */
        default void onAnswer(RequestContext ctx, Answer answer) {}

        /**
         * {@code <outbound>} or {@code <on-error>}: called exactly once per request that reached the pipeline, however
         * it ended, before the request's record is written. The future completes once the policy is done with it.
         */
        default Future<Void> onEnd(RequestContext ctx, Ending ending) {
            return DONE;
        }
    }
}
