package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.aigate.redis.Authenticated;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Redis;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Answers "which subscription does this key hash open?" from the cache when it can and from Redis when it must. A
 * fresh hit costs no Redis round trip; a stale one is served at once and re-checked behind the request; concurrent
 * misses for one key share one Redis lookup. Redis being unreachable is a state with its own log line and metric.
 */
@Singleton
public class SubscriptionLookup {

    private static final Logger LOG = Logger.getLogger(SubscriptionLookup.class);

    /** What the cache and Redis said, and whether the answer came without waiting on Redis. */
    public sealed interface Answer permits Known, Unknown, Unavailable {}

    public record Known(SubscriptionStore.Found found) implements Answer {}

    public record Unknown() implements Answer {}

    public record Unavailable(String why) implements Answer {}

    private static final Unknown UNKNOWN = new Unknown();

    private final SubscriptionStore store;
    private final KeyCache cache;
    private final SubscriptionMetrics metrics;
    private final long ttlMillis;
    private final Map<String, Pending> inFlight = new ConcurrentHashMap<>();
    /**
     * Moves on with every invalidation and every channel state change. A Redis answer is cached, or shared with a
     * later request, only while the generation it started in is current: an answer read before a revocation and
     * delivered after it must never put the revoked state back for a whole TTL. One counter for all subscriptions,
     * since a lookup by key hash cannot know its subscription before Redis answers; invalidations are rare, so the
     * cost is an occasional extra lookup.
     */
    private final AtomicLong generation = new AtomicLong();

    private volatile boolean redisUp = true;
    private volatile boolean channelUp;

    private final Clock clock;

    SubscriptionLookup(AigateConfig config, @Authenticated Redis redis, MeterRegistry registry, Clock clock) {
        this.clock = clock;
        AigateConfig.SubscriptionKey keys = config.subscriptionKey();
        this.store = new SubscriptionStore(redis, keys.redisTimeout().toMillis());
        this.cache = new KeyCache(keys.cacheMaxEntries(), keys.outageGrace(), keys.negativeCacheTtl());
        this.ttlMillis = keys.cacheTtl().toMillis();
        this.metrics = new SubscriptionMetrics(registry, this::storeUp, cache::size);
    }

    Future<Answer> find(String keyHash) {
        KeyCache.Entry entry = cache.get(keyHash);
        if (entry instanceof KeyCache.Known known) {
            if (clock.millis() - known.verifiedAtMillis() < ttlMillis) {
                metrics.cache(SubscriptionMetrics.CacheResult.HIT);
            } else {
                metrics.cache(SubscriptionMetrics.CacheResult.STALE_HIT);
                fetch(keyHash); // re-checked behind the request; a revoked key is refused from the next request on
            }
            return Future.succeededFuture(new Known(known.found()));
        }
        if (entry instanceof KeyCache.Unknown) {
            metrics.cache(SubscriptionMetrics.CacheResult.NEGATIVE_HIT);
            return Future.succeededFuture(UNKNOWN);
        }
        metrics.cache(SubscriptionMetrics.CacheResult.MISS);
        return fetch(keyHash)
                .<Answer>map(found -> found == null ? UNKNOWN : new Known(found))
                .otherwise(err -> new Unavailable(err.getClass().getSimpleName()));
    }

    /** A Redis lookup under way, and the generation it started in. */
    private record Pending(long generation, Future<SubscriptionStore.Found> answer) {}

    private Future<SubscriptionStore.Found> fetch(String keyHash) {
        long current = generation.get();
        Pending running = inFlight.get(keyHash);
        if (running != null && running.generation() == current) {
            return running.answer();
        }
        Promise<SubscriptionStore.Found> promise = Promise.promise();
        Pending pending = new Pending(current, promise.future());
        // a lookup from an older generation is not joined: it may have read Redis before the last invalidation
        if (running == null
                ? inFlight.putIfAbsent(keyHash, pending) != null
                : !inFlight.replace(keyHash, running, pending)) {
            return fetch(keyHash);
        }
        long start = System.nanoTime();
        long verifiedAt = clock.millis();
        store.lookup(keyHash).onComplete(done -> {
            inFlight.remove(keyHash, pending);
            if (done.succeeded()) {
                metrics.redis(System.nanoTime() - start);
                if (generation.get() == current) {
                    cache.put(
                            keyHash,
                            done.result() == null
                                    ? new KeyCache.Unknown(verifiedAt)
                                    : new KeyCache.Known(done.result(), verifiedAt));
                    if (generation.get() != current) {
                        cache.remove(keyHash); // an invalidation ran on another thread between the check and the put
                    }
                }
                redisReachable(true, null);
                promise.complete(done.result());
            } else {
                redisReachable(false, done.cause());
                promise.fail(done.cause());
            }
        });
        return promise.future();
    }

    private void redisReachable(boolean up, Throwable cause) {
        if (up != redisUp) {
            redisUp = up;
            if (up) {
                LOG.info("subscription store recovered: Redis answers key lookups again");
            } else {
                LOG.warnf(
                        "subscription store degraded: Redis unreachable (%s); keys confirmed in the last outage-grace "
                                + "keep working, unknown keys get 503",
                        cause.getClass().getSimpleName());
            }
        }
    }

    void invalidate(String subscriptionId) {
        generation.incrementAndGet();
        cache.invalidateSubscription(subscriptionId);
    }

    /** Moves on with every invalidation handled and every channel state change: a test can tell one was handled. */
    long generation() {
        return generation.get();
    }

    /**
     * While the channel is down, cached keys keep working within the outage grace; once it is back, nothing cached
     * before may be trusted, since it may have missed a revocation.
     */
    void channelState(boolean up) {
        generation.incrementAndGet();
        channelUp = up;
        if (up) {
            cache.clear();
        }
    }

    public boolean storeUp() {
        return redisUp && channelUp;
    }

    String state() {
        return (redisUp ? "redis answers" : "redis unreachable") + ", invalidations "
                + (channelUp ? "subscribed" : "not subscribed") + ", " + cache.size() + " keys cached";
    }

    SubscriptionStore store() {
        return store;
    }

    SubscriptionMetrics metrics() {
        return metrics;
    }
}
