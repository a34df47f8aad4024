package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.redis.RedisChannels;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.Keys;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A second aigate instance on the same Redis (its own cache, its own invalidation channel, a cache TTL of ten minutes
 * so that only an invalidation can change its mind quickly) sees a revocation within two seconds.
 */
class InvalidationTest extends WithRealRedis {

    static SubscriptionLookup instance() {
        return instance(vertx, redis.url(), Map.of());
    }

    /**
     * Another aigate instance's key layer on {@code redisUrl}: its own cache (a TTL and an outage grace of ten minutes,
     * so only an invalidation can change its mind quickly) and its own invalidation channel.
     */
    static SubscriptionLookup instance(Vertx vertx, String redisUrl, Map<String, String> settings) {
        Map<String, String> all = new java.util.HashMap<>(
                Map.of("aigate.subscription-key.cache-ttl", "10m", "aigate.subscription-key.outage-grace", "10m"));
        all.putAll(settings);
        AigateConfig config = Configs.aigate(all);
        Redis client = Redis.createClient(vertx, redisUrl);
        SubscriptionLookup lookup =
                new SubscriptionLookup(config.subscriptionKey(), client, new SimpleMeterRegistry(), Clock.systemUTC());
        RedisChannels.start(vertx, client, config.subscriptionKey(), List.of(new InvalidationChannel(lookup)));
        return lookup;
    }

    static void awaitSubscribed(SubscriptionLookup lookup) throws Exception {
        Await.until("invalidation channel subscribed", Duration.ofMillis(5000), () -> lookup.storeUp());
    }

    static SubscriptionLookup.Answer find(SubscriptionLookup lookup, String key) throws Exception {
        return lookup.find(SubscriptionKeys.hash(key))
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    static Subscription.State state(SubscriptionLookup lookup, String key) throws Exception {
        SubscriptionLookup.Answer answer = find(lookup, key);
        return answer instanceof SubscriptionLookup.Known known
                ? known.found().subscription().state()
                : null;
    }

    @Test
    void aRevocationReachesAnotherInstancesCacheWithinTwoSeconds() throws Exception {
        SubscriptionLookup other = instance();
        awaitSubscribed(other);
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "fleet");
        String key = created.key("Primary");
        assertEquals(Subscription.State.ACTIVE, state(other, key));
        assertEquals(Subscription.State.ACTIVE, state(other, key)); // from its cache now

        Keys.ok(redis.url(), "suspend", created.id());
        Await.until(
                "the other instance stops trusting the key within 2 s",
                Duration.ofSeconds(2),
                () -> state(other, key) == Subscription.State.SUSPENDED);

        Keys.ok(redis.url(), "revoke", created.id());
        Await.until(
                "a revoked key is unknown everywhere within 2 s",
                Duration.ofMillis(2000),
                () -> (find(other, key) instanceof SubscriptionLookup.Unknown));
        assertInstanceOf(SubscriptionLookup.Unknown.class, find(other, key));
    }

    @Test
    void keysAreRecognisableChecksummedAndStoredOnlyAsHashes() {
        String key = SubscriptionKeys.generate();
        assertTrue(key.startsWith("aig_") && key.length() == 55, key);
        assertTrue(SubscriptionKeys.wellFormed(key));
        char last = key.charAt(key.length() - 5);
        String typo = key.substring(0, key.length() - 5) + (last == 'a' ? 'b' : 'a') + key.substring(key.length() - 4);
        assertTrue(!SubscriptionKeys.wellFormed(typo), "a one-character change breaks the checksum");
        assertEquals(64, SubscriptionKeys.hash(key).length());
        assertTrue(!SubscriptionKeys.generate().equals(key));
    }
}
