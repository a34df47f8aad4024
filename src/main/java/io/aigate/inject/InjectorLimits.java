package io.aigate.inject;

import java.time.Duration;

/**
 * What one AdmissionReview may cost the injector, so that no sender (any pod can reach the webhook's Service) can take
 * it down or make it miss the API server's deadline. Memory is bounded by {@code maxReviewBytes} and the parser's
 * token bound ({@link PodMutator}) per review, times {@code concurrentReviews}; a review waiting for its turn is not
 * read (its bytes stay in the sender's socket), and one that has not been answered by {@code reviewTimeout} is
 * dropped, so a slow sender holds nothing past it.
 *
 * @param maxReviewBytes    the API server's own request limit is 3 MB; a pod's review is a few KB
 * @param concurrentReviews reviews read and judged at once; the rest wait, paused, in a queue
 * @param queuedReviews     reviews that may wait, a quarter of them at most from one address, served address by
 *                          address in turn; beyond, a 429 at once (the API server applies the failure policy)
 * @param reviewTimeout     from the first byte to the answer: below the webhook's {@code timeoutSeconds} (5 s), so the
 *                          API server never waits on a review aigate has given up on
 * @param maxConnections    open connections; beyond, new ones are closed (each holds TLS buffers)
 */
public record InjectorLimits(
        int maxReviewBytes, int concurrentReviews, int queuedReviews, Duration reviewTimeout, int maxConnections) {

    // constants, so that the injector's --help states the very numbers it runs with
    public static final int MAX_REVIEW_MB = 3;
    public static final int CONCURRENT_REVIEWS = 2;
    public static final int QUEUED_REVIEWS = 64;
    public static final int REVIEW_TIMEOUT_MS = 4000;
    public static final int MAX_CONNECTIONS = 256;

    public static final InjectorLimits DEFAULTS = new InjectorLimits(
            MAX_REVIEW_MB * 1024 * 1024,
            CONCURRENT_REVIEWS,
            QUEUED_REVIEWS,
            Duration.ofMillis(REVIEW_TIMEOUT_MS),
            MAX_CONNECTIONS);

    public InjectorLimits {
        if (maxReviewBytes < 1024 || concurrentReviews < 1 || queuedReviews < 0 || maxConnections < 1) {
            throw new IllegalArgumentException("injector limits must be positive");
        }
        if (reviewTimeout.isNegative() || reviewTimeout.isZero()) {
            throw new IllegalArgumentException("the review timeout must be positive");
        }
    }

    /**
     * How long a review that was given a turn may take to send its body: a second (or the review's timeout, if
     * shorter). Inside a cluster a 3 MB body takes milliseconds; a sender that stalls gives its turn back here.
     */
    public Duration bodyTimeout() {
        Duration second = Duration.ofSeconds(1);
        return reviewTimeout.compareTo(second) < 0 ? reviewTimeout : second;
    }
}
