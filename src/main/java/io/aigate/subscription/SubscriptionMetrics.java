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

    enum Decision { ALLOWED, MISSING, UNKNOWN, INACTIVE, EXPIRED, OUT_OF_SCOPE, STORE_UNAVAILABLE }

    enum CacheResult { HIT, STALE_HIT, NEGATIVE_HIT, MISS }

    private final Map<Decision, Counter> decisions = new EnumMap<>(Decision.class);
    private final Map<CacheResult, Counter> cache = new EnumMap<>(CacheResult.class);
    private final Timer redis;

    SubscriptionMetrics(MeterRegistry registry, Supplier<Boolean> storeUp, Supplier<Long> cachedKeys) {
        for (Decision d : Decision.values()) {
            decisions.put(d, Counter.builder("aigate.subscription.decisions").tag("layer", "subscription-key")
                    .tag("result", d.name().toLowerCase()).description("Subscription-key decisions by reason")
                    .register(registry));
        }
        for (CacheResult c : CacheResult.values()) {
            cache.put(c, Counter.builder("aigate.subscription.cache").tag("result", c.name().toLowerCase())
                    .description("Subscription-key cache lookups").register(registry));
        }
        redis = Timer.builder("aigate.subscription.redis").description("Redis round trips for key lookups")
                .publishPercentiles(0.5, 0.99).register(registry);
        Gauge.builder("aigate.subscription.store.up", () -> storeUp.get() ? 1 : 0)
                .description("1 while Redis answers key lookups and the invalidation channel is subscribed, else 0")
                .register(registry);
        Gauge.builder("aigate.subscription.cache.size", cachedKeys::get).description("Keys of subscriptions cached (unknown keys are not counted)")
                .register(registry);
    }

    void decision(Decision d) {
        decisions.get(d).increment();
    }

    void cache(CacheResult c) {
        cache.get(c).increment();
    }

    void redis(long nanos) {
        redis.record(nanos, TimeUnit.NANOSECONDS);
    }
}
