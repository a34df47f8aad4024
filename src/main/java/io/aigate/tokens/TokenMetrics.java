package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * APIM's {@code llm-emit-token-metric}: prompt, completion and total tokens (cached and reasoning where reported) of
 * every successful answer, by a bounded set of dimensions. Only answers the backend accepted are counted, so the
 * deployment dimension holds real deployments, never a caller's invention; subscriptions are bounded by the admin.
 */
@Singleton
public class TokenMetrics {

    static final Set<String> DIMENSIONS = Set.of("route", "backend", "deployment", "subscription");

    private final MeterRegistry registry;
    private final List<String> dimensions;
    private final ConcurrentMap<Tags, Counter[]> counters = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> unmeasured = new ConcurrentHashMap<>();

    TokenMetrics(MeterRegistry registry, AigateConfig config) {
        this.registry = registry;
        this.dimensions = config.tokens().dimensions();
    }

    /**
     * @param estimated true when the backend never reported usage (a cut stream) and it was counted from what passed
     */
    public void record(
            String route, String backend, String deployment, String subscription, Usage usage, boolean estimated) {
        Tags tags = Tags.of("source", estimated ? "estimated" : "reported");
        for (String dimension : dimensions) {
            tags = tags.and(
                    dimension,
                    switch (dimension) {
                        case "route" -> route;
                        case "backend" -> backend;
                        case "deployment" -> deployment == null ? "none" : deployment;
                        default -> subscription == null ? "none" : subscription;
                    });
        }
        Counter[] c = counters.computeIfAbsent(tags, t -> new Counter[] {
            counter(t, "prompt"),
            counter(t, "completion"),
            counter(t, "total"),
            counter(t, "cached"),
            counter(t, "reasoning")
        });
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

    private Counter counter(Tags tags, String type) {
        return Counter.builder("aigate.tokens")
                .description("Tokens by type, as reported by the backend")
                .tags(tags)
                .tag("type", type)
                .register(registry);
    }
}
