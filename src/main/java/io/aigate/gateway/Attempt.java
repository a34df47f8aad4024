package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.config.StatusRanges;

/**
 * How one attempt on one pool member ended, as the retry rule, the breaker, the span and the retry counter read it:
 * each result names its own span {@code error.type} and retry-counter tag, so those are written in one place.
 */
sealed interface Attempt {

    /** The {@code error.type} of the attempt's span when the request goes on to another member. */
    String errorType();

    /** The {@code aigate_backend_retries_total{why}} tag: a bounded set, whatever the configuration. */
    default String why() {
        return errorType();
    }

    /** Whether it ended for want of time (the breaker counts timeouts apart). */
    default boolean timedOut() {
        return false;
    }

    Busy BUSY = new Busy();
    NoCredential NO_CREDENTIAL = new NoCredential();

    /** Every connection aigate may open to the member is in use (max-connections): aigate's bound, not the backend's. */
    record Busy() implements Attempt {
        @Override
        public String errorType() {
            return Failure.BUSY.tag();
        }
    }

    /** No connection: the backend never saw the request. */
    record NoConnection(boolean timedOut) implements Attempt {
        @Override
        public String errorType() {
            return Failure.lost(timedOut).tag();
        }
    }

    /** Sent, then no answer (no answer in time, a reset): the backend may have served it, and billed it. */
    record Unanswered(boolean timedOut) implements Attempt {
        @Override
        public String errorType() {
            return Failure.lost(timedOut).tag();
        }
    }

    /** The member's managed-identity token or API key could not be had. */
    record NoCredential() implements Attempt {
        @Override
        public String errorType() {
            return Failure.CREDENTIAL.tag();
        }
    }

    /** An answer's status, before any of it reached the caller. */
    record Answered(int status) implements Attempt {
        @Override
        public String errorType() {
            return GatewayMetrics.statusLabel(status);
        }

        @Override
        public String why() {
            return status == 429 ? "429" : status >= 500 ? "5xx" : "other_status";
        }
    }

    /**
     * A route's {@code <retry>}: attempts after the first, within how long of the first they may start, which answers
     * are tried again, and whether a request the backend had but never answered is. Pure: which results go on to the
     * next member is decided here alone, from the result, and tested without a socket.
     */
    record Rule(int count, long withinNanos, StatusRanges statuses, boolean unanswered) {

        /** @param route the route's name: a wrong status list stops start-up with its key */
        static Rule of(String route, AigateConfig.Retry retry) {
            return new Rule(
                    Math.max(0, retry.count()),
                    retry.within().toNanos(),
                    StatusRanges.read("aigate.routes." + route + ".retry.status-code-ranges", retry.statusCodeRanges()),
                    retry.unanswered());
        }

        /** Whether this result may go on to another member (if one may still be tried). */
        boolean retries(Attempt result) {
            if (result instanceof Answered answered) {
                return statuses.contains(answered.status());
            }
            if (result instanceof Unanswered) {
                return unanswered; // it may have been served, and billed: only where the route says so
            }
            return true; // busy, no connection, no credential: no backend ever had the request
        }

        /** How many attempts a request on a pool of {@code members} may make in all. */
        int maxAttempts(int members) {
            return members > 1 ? 1 + count : 1;
        }
    }
}
