package io.aigate.subscription;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Layer-1 metrics: every decision by reason, cache effectiveness, Redis latency and reachability. */
final class SubscriptionMetrics {

    enum CacheResult {
        HIT,
        STALE_HIT,
        NEGATIVE_HIT,
        MISS
    }

    private final Counter allowed;
    private final Map<KeyRefusal, Counter> refused = new EnumMap<>(KeyRefusal.class);
    private final Map<CacheResult, Counter> cache = new EnumMap<>(CacheResult.class);
    private final Timer redis;

    /** Active subscriptions that expire within the warning window (or already have), as the last count found. */
    static <T> void expiring(
            MeterRegistry registry, java.time.Duration window, T watch, java.util.function.ToDoubleFunction<T> count) {
        Gauge.builder("aigate.subscriptions.expiring", watch, count)
                .tag("within", window.toDays() + "d")
                .description("Active subscriptions that expire within the warning window (or already have)")
                .register(registry);
    }

    SubscriptionMetrics(MeterRegistry registry, Supplier<Boolean> storeUp, Supplier<Long> cachedKeys) {
        allowed = decisions(registry, "allowed");
        for (KeyRefusal r : KeyRefusal.values()) {
            refused.put(r, decisions(registry, r.result()));
        }
        for (CacheResult c : CacheResult.values()) {
            cache.put(
                    c,
                    Counter.builder("aigate.subscription.cache")
                            .tag("result", c.name().toLowerCase())
                            .description("Subscription-key cache lookups")
                            .register(registry));
        }
        redis = Timer.builder("aigate.subscription.redis")
                .description("Redis round trips for key lookups")
                .publishPercentiles(0.5, 0.99)
                .register(registry);
        Gauge.builder("aigate.subscription.store.up", () -> storeUp.get() ? 1 : 0)
                .description("1 while Redis answers key lookups and the invalidation channel is subscribed, else 0")
                .register(registry);
        Gauge.builder("aigate.subscription.cache.size", cachedKeys::get)
                .description("Keys of subscriptions cached (unknown keys are not counted)")
                .register(registry);
    }

    private static Counter decisions(MeterRegistry registry, String result) {
        return Counter.builder("aigate.subscription.decisions")
                .tag("layer", "subscription-key")
                .tag("result", result)
                .description("Subscription-key decisions by reason")
                .register(registry);
    }

    void allowed() {
        allowed.increment();
    }

    void refused(KeyRefusal why) {
        refused.get(why).increment();
    }

    void cache(CacheResult c) {
        cache.get(c).increment();
    }

    void redis(long nanos) {
        redis.record(nanos, TimeUnit.NANOSECONDS);
    }
}
