package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.aigate.redis.RedisChannels;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One instance's key layer (cache, lookups, invalidation channel) on a given Redis client, for tests elsewhere. */
public final class InvalidationAccess {

    private final SubscriptionLookup lookup;

    private InvalidationAccess(SubscriptionLookup lookup) {
        this.lookup = lookup;
    }

    public static InvalidationAccess start(AigateConfig config, Vertx vertx, Redis redis) {
        SubscriptionLookup lookup =
                new SubscriptionLookup(config.subscriptionKey(), redis, new SimpleMeterRegistry(), Clock.systemUTC());
        RedisChannels.start(vertx, redis, config.subscriptionKey(), List.of(new InvalidationChannel(lookup)));
        return new InvalidationAccess(lookup);
    }

    /** Redis answers and the invalidation channel is confirmed subscribed. */
    public boolean subscribed() {
        return lookup.storeUp();
    }

    /** The state this instance holds for a key hash (from its cache when it can), or null when unknown. */
    public Subscription.State state(String keyHash) throws Exception {
        SubscriptionLookup.Answer answer =
                lookup.find(keyHash).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        return answer instanceof SubscriptionLookup.Known known
                ? known.found().subscription().state()
                : null;
    }
}
