package io.aigate.tokens;

import io.aigate.config.QuotaPeriod;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/** The fleet-wide budget's script, run as some Redis user: admit, then settle, as one request does. */
public final class RedisTokenBudgetAccess {

    private final RedisTokenBudget budget;
    private final TokenCounter counter;

    /** One budget (with its own connections per event loop), kept across calls. */
    public RedisTokenBudgetAccess(Redis redis, long tokensPerMinute, long quota, QuotaPeriod period) {
        this.budget = new RedisTokenBudget(redis, 2000, Clock.systemUTC());
        this.counter = new TokenCounter("acl-test", "s:acl-test", tokensPerMinute, quota, period);
    }

    /** Admits ten tokens and gives five back; the admission's result. Call it on an event loop to use its links. */
    public Future<String> admitAndSettle() {
        Instant now = Instant.now();
        return budget.admit(counter, 10, now)
                .compose(verdict -> budget.settle(new TokenBudget.Hold(counter, now, 10, "redis"), -5, now)
                        .map(v -> verdict.result().name()));
    }

    /** The same, waited for (off any event loop). */
    public static String admitAndSettle(Redis redis, long tokensPerMinute, long quota, QuotaPeriod period)
            throws Exception {
        return new RedisTokenBudgetAccess(redis, tokensPerMinute, quota, period)
                .admitAndSettle()
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }
}
