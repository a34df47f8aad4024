package io.aigate.tokens;

import java.time.Instant;

/**
 * What a budget said to one request. Remaining counts are -1 where that limit does not apply.
 *
 * @param decidedAt the instant the budget judged by: the quota window a reservation settles into, and the clock its
 *                  renewal is counted from
 *
 * @param store where the decision was made: {@code redis}, {@code local} (Redis unreachable, a share of the limit
 *              enforced in this instance) or {@code none} (Redis unreachable, configured to let requests pass)
 */
public record Verdict(
        Result result,
        long retryAfterSeconds,
        long remainingTokens,
        long remainingQuotaTokens,
        String store,
        Instant decidedAt) {

    public enum Result {
        ADMITTED,
        RATE_LIMITED,
        QUOTA_EXCEEDED,
        UNAVAILABLE
    }

    public boolean admitted() {
        return result == Result.ADMITTED;
    }
}
