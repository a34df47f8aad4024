package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.redis.ChannelListener;
import io.aigate.redis.RedisChannels;
import io.aigate.redis.RedisSchema;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.FaultyLink;
import io.aigate.testing.Keys;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The subscribed connection against what a hostile or unlucky fleet sends it, on the real Redis: a flood of
 * invalidations, a message too large for Redis's own pub/sub output buffer (it drops every subscriber at once), a
 * channel silently lost. The key cache keeps serving through all of them, and a revocation during or after any of them
 * still takes effect.
 */
class ChannelFloodTest extends WithRealRedis {

    FaultyLink link;

    @BeforeEach
    void wire() {
        link = new FaultyLink(() -> redis.port());
    }

    @AfterEach
    void unwire() {
        link.close();
    }

    /** One instance's key layer, also listening on the backend-rest channel (as a sidecar with a pool does). */
    record Instance(SubscriptionLookup lookup, SimpleMeterRegistry registry, AtomicInteger losses) {
        double cache(String result) {
            return registry.find("aigate.subscription.cache")
                    .tag("result", result)
                    .counter()
                    .count();
        }

        SubscriptionLookup.Answer find(String keyHash) throws Exception {
            return lookup.find(keyHash)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
        }

        Subscription.State state(String keyHash) throws Exception {
            return find(keyHash) instanceof SubscriptionLookup.Known known
                    ? known.found().subscription().state()
                    : null;
        }
    }

    static Instance instance(String redisUrl, Map<String, String> settings) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(
                Map.of("aigate.subscription-key.cache-ttl", "10m", "aigate.subscription-key.outage-grace", "10m"));
        all.putAll(settings);
        AigateConfig config = Configs.aigate(all);
        Redis client = Redis.createClient(vertx, redisUrl);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SubscriptionLookup lookup =
                new SubscriptionLookup(config.subscriptionKey(), client, registry, Clock.systemUTC());
        AtomicInteger losses = new AtomicInteger();
        ChannelListener rests = new ChannelListener() {
            @Override
            public String channel() {
                return RedisSchema.BACKEND_REST_CHANNEL;
            }

            @Override
            public void message(String payload) {}

            @Override
            public void subscribed(boolean up) {
                if (!up) {
                    losses.incrementAndGet();
                }
            }
        };
        RedisChannels.start(vertx, client, config.subscriptionKey(), List.of(new InvalidationChannel(lookup), rests));
        Await.until("channels subscribed", Duration.ofSeconds(5), lookup::storeUp);
        return new Instance(lookup, registry, losses);
    }

    static RedisConnection publisher() throws Exception {
        return Redis.createClient(vertx, redis.url())
                .connect()
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    /** Publishes in a tight loop on one pipelined connection, as fast as one client can. */
    static void flood(RedisConnection publisher, String channel, int n, java.util.function.IntFunction<String> payload)
            throws Exception {
        for (int batch = 0; batch < n; batch += 1000) {
            List<Future<?>> sending = new ArrayList<>();
            for (int i = batch; i < Math.min(n, batch + 1000); i++) {
                sending.add(
                        publisher.send(Request.cmd(Command.PUBLISH).arg(channel).arg(payload.apply(i))));
            }
            Future.all(sending).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFloodOfInvalidationsNeitherDropsTheSubscriberNorTheCacheNorDelaysARevocation() throws Exception {
        Instance instance = instance(redis.url(), Map.of("aigate.subscription-key.cache-max-entries", "50000"));
        Keys.Run kept = Keys.ok(redis.url(), "create", "--name", "kept");
        Keys.Run gone = Keys.ok(redis.url(), "create", "--name", "gone");
        String keptHash = SubscriptionKeys.hash(kept.key("Primary"));
        String goneHash = SubscriptionKeys.hash(gone.key("Primary"));
        SubscriptionLookup.Known found = (SubscriptionLookup.Known) instance.find(keptHash);
        assertEquals(Subscription.State.ACTIVE, instance.state(goneHash));
        // a well-filled cache: what each invalidation used to scan, entry by entry
        long now = System.currentTimeMillis();
        for (int i = 0; i < 40_000; i++) {
            instance.lookup()
                    .cache()
                    .put(SubscriptionKeys.hash(SubscriptionKeys.generate()), new KeyCache.Known(found.found(), now));
        }
        double misses = instance.cache("miss");

        RedisConnection publisher = publisher();
        // ids anyone could invent, and payloads that are no id at all
        flood(publisher, RedisSchema.INVALIDATE_CHANNEL, 100_000, i -> i % 10 == 0 ? "x".repeat(200) : "t" + i);
        Keys.ok(redis.url(), "suspend", gone.id());
        long suspended = System.nanoTime();
        flood(
                publisher,
                RedisSchema.INVALIDATE_CHANNEL,
                20_000,
                i -> UUID.randomUUID().toString());
        Await.until(
                "the suspension behind the flood takes effect within 2 s",
                Duration.ofSeconds(2).minusNanos(System.nanoTime() - suspended),
                () -> instance.state(goneHash) == Subscription.State.SUSPENDED);

        assertEquals(0, instance.losses().get(), "the subscriber was never dropped");
        assertInstanceOf(SubscriptionLookup.Known.class, instance.find(keptHash));
        assertEquals(misses + 1, instance.cache("miss"), "the kept key came from the cache; only gone was fetched");
        assertTrue(
                instance.lookup().state().endsWith((40_000 + 2) + " keys cached"),
                instance.lookup().state());
    }

    @Test
    void aMessageTooLargeForRedisDropsEverySubscriberYetTheCacheIsKept() throws Exception {
        Instance instance = instance(redis.url(), Map.of());
        Keys.Run kept = Keys.ok(redis.url(), "create", "--name", "big-kept");
        String keptHash = SubscriptionKeys.hash(kept.key("Primary"));
        assertEquals(Subscription.State.ACTIVE, instance.state(keptHash));
        double misses = instance.cache("miss");

        // over Redis's hard pub/sub output-buffer limit (32 MB): any sidecar may publish on the rest channel
        flood(publisher(), RedisSchema.BACKEND_REST_CHANNEL, 1, i -> "x".repeat(40 * 1024 * 1024));
        Await.until(
                "Redis dropped the subscriber",
                Duration.ofSeconds(10),
                () -> instance.losses().get() > 0);
        Await.until("subscribed again", Duration.ofSeconds(10), instance.lookup()::storeUp);

        assertEquals(Subscription.State.ACTIVE, instance.state(keptHash), "served from the cache, no wait on Redis");
        assertEquals(misses, instance.cache("miss"), "no miss: the cache was kept");
        assertTrue(
                instance.lookup().state().endsWith(" 1 keys cached"),
                instance.lookup().state());
    }

    @Test
    void aRevocationMissedDuringAGapTakesEffectOnceTheChannelIsBackWithoutDroppingOtherKeys() throws Exception {
        Instance instance = instance(
                link.url(),
                Map.of(
                        "aigate.subscription-key.invalidation-keepalive", "300ms",
                        "aigate.subscription-key.redis-timeout", "500ms"));
        Keys.Run kept = Keys.ok(redis.url(), "create", "--name", "gap-kept");
        Keys.Run gone = Keys.ok(redis.url(), "create", "--name", "gap-gone");
        String keptHash = SubscriptionKeys.hash(kept.key("Primary"));
        String goneHash = SubscriptionKeys.hash(gone.key("Primary"));
        assertEquals(Subscription.State.ACTIVE, instance.state(keptHash));
        assertEquals(Subscription.State.ACTIVE, instance.state(goneHash));

        assertEquals(1, link.silence("SUBSCRIBE"), "the subscribed connection goes silent");
        Keys.ok(redis.url(), "revoke", gone.id()); // published into the void
        Await.until(
                "the gap is noticed",
                Duration.ofSeconds(5),
                () -> instance.losses().get() > 0);
        Await.until("subscribed again", Duration.ofSeconds(5), instance.lookup()::storeUp);
        double misses = instance.cache("miss");

        assertTrue(
                instance.lookup().state().endsWith(" 2 keys cached"),
                "kept: " + instance.lookup().state());
        Await.until(
                "the revocation missed in the gap takes effect once its key is re-checked",
                Duration.ofSeconds(2),
                () -> instance.find(goneHash) instanceof SubscriptionLookup.Unknown);
        assertEquals(Subscription.State.ACTIVE, instance.state(keptHash));
        Await.until("the kept key, re-checked behind its request, is a fresh hit again", Duration.ofSeconds(2), () -> {
            double hits = instance.cache("hit");
            instance.find(keptHash);
            return instance.cache("hit") > hits;
        });
        assertEquals(misses, instance.cache("miss"), "no request waited on Redis for it");
    }
}
