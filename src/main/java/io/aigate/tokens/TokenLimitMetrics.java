package io.aigate.tokens;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the token limit decided, where (Redis or the local fallback), and how much headroom each counter has left. The
 * headroom gauges follow the most recently seen counters only, so a header-keyed limit cannot grow them without bound.
 */
@Singleton
public class TokenLimitMetrics {

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Counter> decisions = new ConcurrentHashMap<>();
    private final Counter settleFailures;
    private final AtomicInteger storeUp = new AtomicInteger(1);
    private final Cache<String, Headroom> headroom;

    /** A view older than this is not reported: another instance may have spent (or a window renewed) since. */
    private static final long STALE_NANOS = TimeUnit.MINUTES.toNanos(5);

    /** The latest remaining fractions of one counter, read by its two gauges. */
    private static final class Headroom {
        volatile double rate = Double.NaN;
        volatile double quota = Double.NaN;
        volatile long seenAt;
        Gauge rateGauge;
        Gauge quotaGauge;

        double fresh(double value) {
            return System.nanoTime() - seenAt > STALE_NANOS ? Double.NaN : value;
        }
    }

    TokenLimitMetrics(MeterRegistry registry, AigateConfig config) {
        this.registry = registry;
        this.settleFailures = Counter.builder("aigate.token.limit.settle.failures")
                .description("Reservations that could not be reconciled with the real usage (Redis unreachable)")
                .register(registry);
        Gauge.builder("aigate.token.limit.store.up", storeUp, AtomicInteger::get)
                .description("1 while token limits are kept in Redis (fleet-wide), 0 while the fallback decides")
                .register(registry);
        this.headroom = Caffeine.newBuilder()
                .maximumSize(config.tokenLimit().headroomGaugeMaxCounters())
                .removalListener((String counter, Headroom h, RemovalCause cause) -> {
                    if (h != null) {
                        registry.remove(h.rateGauge);
                        registry.remove(h.quotaGauge);
                    }
                })
                .build();
    }

    void decision(Verdict verdict) {
        String result = verdict.result().name().toLowerCase(java.util.Locale.ROOT);
        decisions
                .computeIfAbsent(
                        result + '/' + verdict.store(),
                        k -> Counter.builder("aigate.token.limit.requests")
                                .description(
                                        "Requests the token limit decided on, by result and by where it was decided")
                                .tags("result", result, "store", verdict.store())
                                .register(registry))
                .increment();
    }

    void headroom(TokenCounter counter, Verdict verdict) {
        Headroom h = headroom.get(counter.label(), label -> {
            Headroom created = new Headroom();
            created.rateGauge = Gauge.builder("aigate.token.limit.remaining.ratio", created, x -> x.fresh(x.rate))
                    .description("Share of the token limit left after the latest request (1 = untouched)")
                    .tags("counter", label, "limit", "rate")
                    .register(registry);
            created.quotaGauge = Gauge.builder("aigate.token.limit.remaining.ratio", created, x -> x.fresh(x.quota))
                    .tags("counter", label, "limit", "quota")
                    .register(registry);
            return created;
        });
        h.seenAt = System.nanoTime();
        if (verdict.remainingTokens() >= 0 && counter.tokensPerMinute() > 0) {
            h.rate = Math.min(1.0, verdict.remainingTokens() / (double) counter.tokensPerMinute());
        }
        if (verdict.remainingQuotaTokens() >= 0 && counter.tokenQuota() > 0) {
            h.quota = Math.min(1.0, verdict.remainingQuotaTokens() / (double) counter.tokenQuota());
        }
    }

    void settleFailed() {
        settleFailures.increment();
    }

    void storeUp(boolean up) {
        storeUp.set(up ? 1 : 0);
    }
}
