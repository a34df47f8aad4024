package io.aigate.tokens;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every meter of the token policies but the OpenTelemetry GenAI ones ({@link GenAiMetrics}, which follow their
 * conventions' names): what answers used, here, and what the token limit decided, in {@link Limit}.
 *
 * <p>APIM's {@code llm-emit-token-metric}: prompt, completion and total tokens (cached and reasoning where reported) of
 * every successful answer, by a bounded set of dimensions: the deployment dimension holds deployments the
 * configuration names, else {@code _OTHER} (a backend's success is no bound: one that answers any name would let
 * callers make series); subscriptions are those in Redis, bounded by the admin.
 */
@Singleton
public class TokenMetrics {

    static final Set<String> DIMENSIONS = Set.of("route", "backend", "deployment", "subscription");

    private final MeterRegistry registry;
    private final List<String> dimensions;
    private final ConcurrentMap<Key, Counter[]> counters = new ConcurrentHashMap<>();
    private final boolean byRoute;
    private final boolean byBackend;
    private final boolean byDeployment;
    private final boolean bySubscription;

    /** The dimensions of one set of counters; those not configured are null, so they fold together. */
    private record Key(String route, String backend, String deployment, String subscription, boolean estimated) {}

    private final ConcurrentMap<String, Counter> unmeasured = new ConcurrentHashMap<>();

    private final GenAiMetrics labels;

    /** For tests and benches that build the policy by hand: the deployments' labels from the same configuration. */
    TokenMetrics(MeterRegistry registry, AigateConfig config) {
        this(registry, config.tokens(), new GenAiMetrics(registry, config));
    }

    @Inject
    TokenMetrics(MeterRegistry registry, AigateConfig.Tokens tokens, GenAiMetrics labels) {
        this.registry = registry;
        this.labels = labels;
        this.dimensions = tokens.dimensions();
        this.byRoute = dimensions.contains("route");
        this.byBackend = dimensions.contains("backend");
        this.byDeployment = dimensions.contains("deployment");
        this.bySubscription = dimensions.contains("subscription");
    }

    /**
     * @param estimated true when the backend never reported usage (a cut stream) and it was counted from what passed
     */
    public void record(
            String route, String backend, String deployment, String subscription, Usage usage, boolean estimated) {
        // the tags are built once per set of counters, not per answer: the key is all an answer costs
        Key key = new Key(
                byRoute ? route : null,
                byBackend ? backend : null,
                byDeployment ? (deployment == null ? "none" : labels.model(deployment)) : null,
                bySubscription ? (subscription == null ? "none" : subscription) : null,
                estimated);
        Counter[] c = counters.computeIfAbsent(key, this::counters);
        c[0].increment(usage.promptTokens());
        c[1].increment(usage.completionTokens());
        c[2].increment(usage.totalTokens());
        if (usage.cachedTokens() > 0) {
            c[3].increment(usage.cachedTokens());
        }
        if (usage.reasoningTokens() > 0) {
            c[4].increment(usage.reasoningTokens());
        }
    }

    private final ConcurrentMap<Key, Counter[]> audio = new ConcurrentHashMap<>();

    /**
     * The audio part of a Realtime response's input and output, beside {@link #record} of its whole: audio is priced
     * apart from text, so it gets series of its own ({@code type="input_audio"}, {@code "output_audio"}); the text part
     * is the whole less these.
     */
    public void audio(String route, String backend, String deployment, String subscription, long input, long output) {
        Key key = new Key(
                byRoute ? route : null,
                byBackend ? backend : null,
                byDeployment ? (deployment == null ? "none" : labels.model(deployment)) : null,
                bySubscription ? (subscription == null ? "none" : subscription) : null,
                false);
        Counter[] c = audio.computeIfAbsent(key, k -> {
            Tags tags = tags(k);
            return new Counter[] {counter(tags, "input_audio"), counter(tags, "output_audio")};
        });
        c[0].increment(Math.max(0, input));
        c[1].increment(Math.max(0, output));
    }

    /** A successful answer whose usage could not be read (a cut stream, a stream without a usage chunk). */
    public void unmeasured(String route, String backend, String why) {
        unmeasured
                .computeIfAbsent(
                        route + '\n' + backend + '\n' + why,
                        k -> Counter.builder("aigate.tokens.unmeasured")
                                .description("Successful answers whose token usage was not reported")
                                .tags("route", route, "backend", backend, "why", why)
                                .register(registry))
                .increment();
    }

    private Counter[] counters(Key key) {
        Tags tags = tags(key);
        return new Counter[] {
            counter(tags, "prompt"),
            counter(tags, "completion"),
            counter(tags, "total"),
            counter(tags, "cached"),
            counter(tags, "reasoning")
        };
    }

    private Tags tags(Key key) {
        Tags tags = Tags.of("source", key.estimated() ? "estimated" : "reported");
        for (String dimension : dimensions) {
            tags = tags.and(
                    dimension,
                    switch (dimension) {
                        case "route" -> key.route();
                        case "backend" -> key.backend();
                        case "deployment" -> key.deployment();
                        default -> key.subscription();
                    });
        }
        return tags;
    }

    private Counter counter(Tags tags, String type) {
        return Counter.builder("aigate.tokens")
                .description("Tokens by type, as reported by the backend")
                .tags(tags)
                .tag("type", type)
                .register(registry);
    }

    /**
     * What the token limit decided, where (Redis or the local fallback), and how much headroom each counter has left. The
     * headroom gauges follow the most recently seen counters only, so a header-keyed limit cannot grow them without bound.
     */
    @Singleton
    public static class Limit {

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

        Limit(MeterRegistry registry, AigateConfig.TokenLimit limit) {
            this.registry = registry;
            this.settleFailures = Counter.builder("aigate.token.limit.settle.failures")
                    .description("Reservations that could not be reconciled with the real usage (Redis unreachable)")
                    .register(registry);
            Gauge.builder("aigate.token.limit.store.up", storeUp, AtomicInteger::get)
                    .description("1 while token limits are kept in Redis (fleet-wide), 0 while the fallback decides")
                    .register(registry);
            this.headroom = Caffeine.newBuilder()
                    .maximumSize(limit.headroomGaugeMaxCounters())
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
}
