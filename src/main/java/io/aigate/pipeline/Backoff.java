package io.aigate.pipeline;

/**
 * The one retry schedule aigate uses (token refreshes, Key Vault reads, signing-key fetches, the invalidation
 * channel): the first retry after {@code initialMillis}, each further one twice as late, never later than
 * {@code maxMillis}.
 */
public record Backoff(long initialMillis, long maxMillis) {

    public Backoff {
        initialMillis = Math.max(1, initialMillis);
        maxMillis = Math.max(initialMillis, maxMillis);
    }

    /** How long to wait after {@code failures} consecutive failures (1 for the first). */
    public long delayAfter(int failures) {
        int doublings = Math.min(30, Math.max(0, failures - 1));
        long delay = initialMillis << doublings;
        return delay <= 0 || delay > maxMillis ? maxMillis : delay;
    }
}
