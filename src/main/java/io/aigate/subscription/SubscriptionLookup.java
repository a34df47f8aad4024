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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Answers "which subscription does this key hash open?" from the cache when it can and from Redis when it must. A
 * fresh hit costs no Redis round trip; a stale one is served at once and re-checked behind the request; concurrent
 * misses for one key share one Redis lookup. Redis being unreachable is a state with its own log line and metric.
 *
 * <p>A hit is stale after {@code cache-ttl}, and every entry is stale once the invalidation channel comes back from a
 * gap (it may have missed a revocation). The cache is kept: dropping it made every reconnect a miss for every key on
 * every instance at once (a flood on any channel can make Redis drop its subscribers together), and lost the outage
 * grace with it. Re-checks behind requests are bounded ({@link #MAX_RECHECKS} at a time), so a reconnect is a paced
 * wave of lookups, not a stampede; a key revoked during the gap is refused once its re-check answers, which the first
 * request after the reconnect starts.
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
    /** Re-checks of stale hits under way at once, at most; beyond it a stale hit is served and re-checked later. */
    static final int MAX_RECHECKS = 32;

    private final SubscriptionStore store;
    private final KeyCache cache;
    private final SubscriptionMetrics metrics;
    private final long ttlMillis;
    private final Map<String, Pending> inFlight = new ConcurrentHashMap<>();
    /**
     * Moves on with every invalidation and every channel state change. A Redis lookup is shared with a later request
     * only while the generation it started in is current, and its answer is cached only if nothing changed its
     * subscription since ({@link #invalidatedSince}): an answer read before a revocation and delivered after it must
     * never put the revoked state back for a whole TTL. Joining uses the one counter, since a lookup by key hash cannot
     * know its subscription before Redis answers; the cost of an invalidation is an occasional extra lookup.
     */
    private final AtomicLong generation = new AtomicLong();

    /**
     * The generation of each of the last {@link #RECENT_INVALIDATIONS} invalidations, by subscription id, oldest
     * first: an answer is cached unless its own subscription changed since it was read, so a flood of invalidations
     * for other ids cannot stop the cache from filling. Guarded by itself.
     */
    private final java.util.LinkedHashMap<String, Long> recent = new java.util.LinkedHashMap<>();

    private static final int RECENT_INVALIDATIONS = 4096;
    /** Answers read up to this generation may predate an invalidation no longer in {@link #recent}. */
    private long forgottenUpTo;
    /** The generation of the last channel state change: answers read before it are never cached. */
    private volatile long resetAt;

    private volatile boolean redisUp = true;
    private volatile boolean channelUp;
    /** Entries verified before this (epoch ms) are stale: the channel came back from a gap after they were read. */
    private volatile long trustedFrom;

    private final AtomicInteger rechecks = new AtomicInteger();

    private final Clock clock;

    SubscriptionLookup(
            AigateConfig.SubscriptionKey keys, @Authenticated Redis redis, MeterRegistry registry, Clock clock) {
        this.clock = clock;
        this.store = new SubscriptionStore(redis, keys.redisTimeout().toMillis());
        this.cache = new KeyCache(keys.cacheMaxEntries(), keys.outageGrace(), keys.negativeCacheTtl());
        this.ttlMillis = keys.cacheTtl().toMillis();
        this.metrics = new SubscriptionMetrics(registry, this::storeUp, cache::size);
    }

    Future<Answer> find(String keyHash) {
        KeyCache.Entry entry = cache.get(keyHash);
        if (entry instanceof KeyCache.Known known) {
            long verifiedAt = known.verifiedAtMillis();
            if (clock.millis() - verifiedAt < ttlMillis && verifiedAt >= trustedFrom) {
                metrics.cache(SubscriptionMetrics.CacheResult.HIT);
            } else {
                metrics.cache(SubscriptionMetrics.CacheResult.STALE_HIT);
                recheck(keyHash); // behind the request; a revoked key is refused once Redis said so
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

    private void recheck(String keyHash) {
        Pending running = inFlight.get(keyHash);
        if (running != null && running.generation() == generation.get()) {
            return; // already being re-checked
        }
        if (rechecks.incrementAndGet() > MAX_RECHECKS) {
            rechecks.decrementAndGet();
            return; // served as it is; a later request re-checks it
        }
        fetch(keyHash).onComplete(done -> rechecks.decrementAndGet());
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
                String id = done.result() == null
                        ? null
                        : done.result().subscription().id();
                if (!invalidatedSince(id, current)) {
                    cache.put(
                            keyHash,
                            id == null
                                    ? new KeyCache.Unknown(verifiedAt)
                                    : new KeyCache.Known(done.result(), verifiedAt));
                    if (invalidatedSince(id, current)) {
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
        synchronized (recent) {
            long at = generation.incrementAndGet();
            recent.remove(subscriptionId); // to the end: the map is oldest first
            recent.put(subscriptionId, at);
            if (recent.size() > RECENT_INVALIDATIONS) {
                // the oldest goes; what started before it can no longer be told apart, so it is not cached
                var oldest = recent.entrySet().iterator();
                forgottenUpTo = oldest.next().getValue();
                oldest.remove();
            }
        }
        cache.invalidateSubscription(subscriptionId);
    }

    /**
     * Whether an answer for this subscription, read in generation {@code since}, may predate a change: an invalidation
     * of that subscription, or a channel gap (which may have hidden any). An unknown key ({@code id} null) only fears a
     * gap: what an invalidation does never makes an unknown key known.
     */
    private boolean invalidatedSince(String id, long since) {
        if (since < resetAt) {
            return true;
        }
        if (id == null) {
            return false;
        }
        synchronized (recent) {
            Long at = recent.get(id);
            return since < forgottenUpTo || (at != null && at > since);
        }
    }

    /** Moves on with every invalidation handled and every channel state change: a test can tell one was handled. */
    long generation() {
        return generation.get();
    }

    /**
     * While the channel is down, cached keys keep working within the outage grace; once it is back, everything cached
     * before is re-checked before it is trusted again, since it may have missed a revocation.
     */
    void channelState(boolean up) {
        resetAt = generation.incrementAndGet();
        channelUp = up;
        if (up) {
            trustedFrom = clock.millis();
        }
    }

    public boolean storeUp() {
        return redisUp && channelUp;
    }

    String state() {
        return (redisUp ? "redis answers" : "redis unreachable") + ", invalidations "
                + (channelUp ? "subscribed" : "not subscribed") + ", " + cache.size() + " keys cached";
    }

    KeyCache cache() {
        return cache;
    }

    SubscriptionStore store() {
        return store;
    }

    SubscriptionMetrics metrics() {
        return metrics;
    }
}
