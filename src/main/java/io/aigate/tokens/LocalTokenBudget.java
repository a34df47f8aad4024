package io.aigate.tokens;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;

/**
 * The budget an instance keeps on its own while Redis cannot be reached: the same leaky bucket and quota windows as
 * the Redis function ({@code aigate/functions.lua}), at a share of each limit (the fleet's replicas together then stay
 * near the real limit instead of each spending all of it, which is how per-pod fallbacks multiply a budget by the
 * number of pods).
 */
final class LocalTokenBudget {

    private final double share;
    private final Cache<String, State> states = Caffeine.newBuilder()
            .maximumSize(10_000)
            .expireAfterAccess(Duration.ofHours(2))
            .build();

    private static final class State {
        double level;
        long lastMillis;
        String window;
        long used;
    }

    LocalTokenBudget(double share) {
        this.share = share;
    }

    /** What a settlement may take out of the bucket: never more than is left of its own hold (see the script). */
    static double rateCorrection(long correction, long held, Instant admittedAt, Instant now, long tpm) {
        if (correction >= 0) {
            return correction;
        }
        double drained = Math.max(0, now.toEpochMilli() - admittedAt.toEpochMilli()) / 60_000.0 * tpm;
        return Math.max(correction, -Math.max(0, held - drained));
    }

    long scaled(long limit) {
        return limit <= 0 ? 0 : Math.max(1, (long) Math.floor(limit * share));
    }

    Verdict admit(TokenCounter counter, long tokens, Instant now) {
        return apply(counter, now, Math.max(0, tokens), now, true, 0);
    }

    void settle(TokenBudget.Hold hold, long correction, Instant now) {
        apply(hold.counter(), hold.admittedAt(), correction, now, false, hold.tokens());
    }

    private Verdict apply(TokenCounter counter, Instant window, long tokens, Instant now, boolean admit, long held) {
        long tpm = scaled(counter.tokensPerMinute());
        long quota = scaled(counter.tokenQuota());
        State state = states.get(counter.tag(), k -> new State());
        synchronized (state) {
            long nowMillis = now.toEpochMilli();
            if (tpm > 0 && nowMillis > state.lastMillis) {
                // in doubles: milliseconds since the epoch times a large limit would overflow a long
                double drained = (nowMillis - state.lastMillis) / 60_000.0 * tpm;
                state.level = state.lastMillis == 0 ? 0 : Math.max(0, state.level - drained);
                state.lastMillis = nowMillis;
            }
            String windowKey = counter.quotaKey(window);
            if (!windowKey.equals(state.window)) {
                if (!admit) {
                    return null; // a settlement for a window that has rolled over has nothing left to correct
                }
                state.window = windowKey;
                state.used = 0;
            }
            long remainingTokens = tpm > 0 ? (long) Math.max(0, tpm - state.level) : -1;
            if (admit && quota > 0 && state.used >= quota) {
                return new Verdict(Verdict.Result.QUOTA_EXCEEDED, 0, remainingTokens, 0, "local", now);
            }
            if (admit && tpm > 0 && state.level > 0 && state.level + tokens > tpm) {
                double waitMillis = (state.level - Math.max(0, tpm - tokens)) * 60_000.0 / tpm;
                return new Verdict(
                        Verdict.Result.RATE_LIMITED,
                        (long) Math.ceil(waitMillis / 1000),
                        remainingTokens,
                        quota > 0 ? Math.max(0, quota - state.used) : -1,
                        "local",
                        now);
            }
            if (tpm > 0) {
                state.level = Math.max(0, state.level + rateCorrection(tokens, held, window, now, tpm));
            }
            if (quota > 0) {
                state.used = Math.max(0, state.used + Math.max(tokens, -held));
            }
            return new Verdict(
                    Verdict.Result.ADMITTED,
                    0,
                    tpm > 0 ? (long) Math.max(0, tpm - state.level) : -1,
                    quota > 0 ? Math.max(0, quota - state.used) : -1,
                    "local",
                    now);
        }
    }
}
