package io.aigate.redis;

import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/**
 * A Redis that does not answer is as good as down: no caller waits on it longer than the timeout
 * ({@code aigate.subscription-key.redis-timeout}). The one place every Redis call gets its deadline.
 */
public final class RedisTimeout {

    private RedisTimeout() {}

    /** {@code operation}, failed with a {@link java.util.concurrent.TimeoutException} once {@code millis} passed. */
    public static <T> Future<T> within(Future<T> operation, long millis) {
        return operation.timeout(millis, TimeUnit.MILLISECONDS);
    }
}
