package io.aigate.tokens;

import io.aigate.pipeline.QuotaPeriod;
import io.vertx.redis.client.Redis;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/** The fleet-wide budget's script, run as some Redis user: admit, then settle, as one request does. */
public final class RedisTokenBudgetAccess {

    private RedisTokenBudgetAccess() {
    }

    /** The admission's result; the settlement must succeed too. */
    public static String admitAndSettle(Redis redis, long tokensPerMinute, long quota, QuotaPeriod period)
            throws Exception {
        RedisTokenBudget budget = new RedisTokenBudget(redis, 2000);
        TokenCounter counter = new TokenCounter("acl-test", "s:acl-test", tokensPerMinute, quota, period);
        Instant now = Instant.now();
        Verdict verdict = budget.admit(counter, 10, now).toCompletionStage().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        budget.settle(new TokenBudget.Hold(counter, now, 10, "redis"), -5, now).toCompletionStage()
                .toCompletableFuture().get(5, TimeUnit.SECONDS);
        return verdict.result().name();
    }
}
