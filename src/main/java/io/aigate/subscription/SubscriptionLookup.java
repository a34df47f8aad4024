package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Answers "which subscription does this key hash open?" from the cache when it can and from Redis when it must. A
 * fresh hit costs no Redis round trip; a stale one is served at once and re-checked behind the request; concurrent
 * misses for one key share one Redis lookup. Redis being unreachable is a state with its own log line and metric.
 */
@Singleton
public class SubscriptionLookup {

    private static final Logger LOG = Logger.getLogger(SubscriptionLookup.class);

    /** What the cache and Redis said, and whether the answer came without waiting on Redis. */
    public sealed interface Answer permits Known, Unknown, Unavailable {
    }

    public record Known(SubscriptionStore.Found found) implements Answer {
    }

    public record Unknown() implements Answer {
    }

    public record Unavailable(String why) implements Answer {
    }

    private static final Unknown UNKNOWN = new Unknown();

    private final SubscriptionStore store;
    private final KeyCache cache;
    private final SubscriptionMetrics metrics;
    private final long ttlMillis;
    private final Map<String, Future<SubscriptionStore.Found>> inFlight = new ConcurrentHashMap<>();
    private volatile boolean redisUp = true;
    private volatile boolean channelUp;

    SubscriptionLookup(AigateConfig config, Vertx vertx, Redis redis, MeterRegistry registry) {
        AigateConfig.SubscriptionKey keys = config.subscriptionKey();
        this.store = new SubscriptionStore(vertx, redis, keys.redisTimeout().toMillis());
        this.cache = new KeyCache(keys.cacheMaxEntries(), keys.outageGrace(), keys.negativeCacheTtl());
        this.ttlMillis = keys.cacheTtl().toMillis();
        this.metrics = new SubscriptionMetrics(registry, this::storeUp, cache::size);
    }

    Future<Answer> find(String keyHash) {
        KeyCache.Entry entry = cache.get(keyHash);
        if (entry instanceof KeyCache.Known known) {
            if (System.currentTimeMillis() - known.verifiedAtMillis() < ttlMillis) {
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
        return fetch(keyHash).<Answer>map(found -> found == null ? UNKNOWN : new Known(found))
                .otherwise(err -> new Unavailable(err.getClass().getSimpleName()));
    }

    private Future<SubscriptionStore.Found> fetch(String keyHash) {
        Future<SubscriptionStore.Found> running = inFlight.get(keyHash);
        if (running != null) {
            return running;
        }
        Promise<SubscriptionStore.Found> promise = Promise.promise();
        running = inFlight.putIfAbsent(keyHash, promise.future());
        if (running != null) {
            return running;
        }
        long start = System.nanoTime();
        long verifiedAt = System.currentTimeMillis();
        store.lookup(keyHash).onComplete(done -> {
            inFlight.remove(keyHash, promise.future());
            if (done.succeeded()) {
                metrics.redis(System.nanoTime() - start);
                cache.put(keyHash, done.result() == null ? new KeyCache.Unknown(verifiedAt)
                        : new KeyCache.Known(done.result(), verifiedAt));
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
                LOG.warnf("subscription store degraded: Redis unreachable (%s); keys confirmed in the last outage-grace "
                        + "keep working, unknown keys get 503", cause.getClass().getSimpleName());
            }
        }
    }

    void invalidate(String subscriptionId) {
        cache.invalidateSubscription(subscriptionId);
    }

    /**
     * While the channel is down, cached keys keep working within the outage grace; once it is back, nothing cached
     * before may be trusted, since it may have missed a revocation.
     */
    void channelState(boolean up) {
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
