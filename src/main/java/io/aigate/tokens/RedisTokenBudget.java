package io.aigate.tokens;

import io.aigate.redis.RedisScript;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.time.Instant;
import java.util.List;

/**
 * The fleet-wide budget: one Lua script ({@code aigate/token-limit.lua}) checks and moves a counter's rate bucket and
 * quota window atomically, so every aigate instance spends from the same tokens and concurrent requests cannot slip
 * through between a read and a write. One EVALSHA to admit, one to settle; the script is sent in full only to a
 * Redis node that does not know it yet (after a restart or on a new cluster node).
 */
public final class RedisTokenBudget {

    private static final RedisScript SCRIPT = RedisScript.load("token-limit.lua");
    /** A quota window's key outlives its window by this much, so a late settlement still finds it. */
    private static final long WINDOW_GRACE_SECONDS = 3600;

    private final EventLoopRedis redis;

    public RedisTokenBudget(Redis redis, long timeoutMillis) {
        this.redis = new EventLoopRedis(redis, timeoutMillis);
    }

    public Future<Verdict> admit(TokenCounter counter, long tokens, Instant now) {
        return run("admit", counter, now, tokens, now, 0)
                .map(r -> new Verdict(
                        switch (r.get(0).toInteger()) {
                            case 0 -> Verdict.Result.ADMITTED;
                            case 1 -> Verdict.Result.RATE_LIMITED;
                            default -> Verdict.Result.QUOTA_EXCEEDED;
                        },
                        r.get(1).toLong(),
                        counter.tokensPerMinute() > 0 ? r.get(2).toLong() : -1,
                        counter.tokenQuota() > 0 ? r.get(3).toLong() : -1,
                        "redis",
                        now));
    }

    /**
     * Moves the counter by {@code correction} (negative gives tokens back, never more than is left of the hold) in the
     * window the request was admitted in.
     */
    public Future<Void> settle(TokenBudget.Hold hold, long correction, Instant now) {
        return run("settle", hold.counter(), hold.admittedAt(), correction, now, hold.tokens())
                .mapEmpty();
    }

    private Future<Response> run(String op, TokenCounter counter, Instant window, long tokens, Instant now, long held) {
        long ttl = counter.tokenQuota() > 0
                ? counter.period().windowEnd(window).getEpochSecond() - now.getEpochSecond() + WINDOW_GRACE_SECONDS
                : WINDOW_GRACE_SECONDS;
        List<String> args = List.of(
                op,
                Long.toString(now.toEpochMilli()),
                Long.toString(counter.tokensPerMinute()),
                Long.toString(tokens),
                Long.toString(counter.tokenQuota()),
                Long.toString(Math.max(1, ttl)),
                Long.toString(window.toEpochMilli()),
                Long.toString(held));
        return redis.send(api -> SCRIPT.run(api, List.of(counter.rateKey(), counter.quotaKey(window)), args));
    }
}
