package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * APIM's {@code llm-emit-token-metric}: prompt, completion and total tokens (cached and reasoning where reported) of
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
        this(registry, config, new GenAiMetrics(registry, config));
    }

    @Inject
    TokenMetrics(MeterRegistry registry, AigateConfig config, GenAiMetrics labels) {
        this.registry = registry;
        this.labels = labels;
        this.dimensions = config.tokens().dimensions();
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
        return new Counter[] {
            counter(tags, "prompt"),
            counter(tags, "completion"),
            counter(tags, "total"),
            counter(tags, "cached"),
            counter(tags, "reasoning")
        };
    }

    private Counter counter(Tags tags, String type) {
        return Counter.builder("aigate.tokens")
                .description("Tokens by type, as reported by the backend")
                .tags(tags)
                .tag("type", type)
                .register(registry);
    }
}
