package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.config.BackendUrl;
import io.aigate.pipeline.RequestContext;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The OpenTelemetry GenAI client metrics, beside aigate's own: {@code gen_ai.client.token.usage} and {@code
 * gen_ai.client.operation.duration}, with the conventions' names, attributes and bucket boundaries (Prometheus:
 * {@code gen_ai_client_token_usage}, {@code gen_ai_client_operation_duration_seconds}). aigate is the client of the
 * model here: {@code server.address} is the backend that served. Every attribute comes from configuration or a fixed
 * set, never from a caller or a backend: the operation is the route's configured template ({@code files_{file-id}},
 * not one value per file id), and a deployment that no route or backend names (a caller's choice under {@code *},
 * whatever the backend answered) is {@code _OTHER}.
 */
@Singleton
public class GenAiMetrics {

    /** The conventions' advice for token counts. */
    static final double[] TOKEN_BUCKETS = {
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864
    };
    /** The conventions' advice for operation durations, in seconds. */
    static final double[] DURATION_BUCKETS = {
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92
    };

    private static final Duration[] DURATION_SLOS = java.util.Arrays.stream(DURATION_BUCKETS)
            .mapToObj(seconds -> Duration.ofNanos((long) (seconds * 1e9)))
            .toArray(Duration[]::new);

    /** Where each backend is, and who provides it (the conventions' {@code gen_ai.provider.name}). */
    public record Server(String address, String port, String provider) {}

    private record TokenKey(String operation, String model, Server server, String type) {}

    private record DurationKey(String operation, String model, Server server, String error) {}

    /** The request's {@code gen_ai.operation.name}, from the operation template its route matched. */
    public static final RequestContext.Part<String> OPERATION = RequestContext.Part.declare("gen-ai-operation");

    /** For an operation aigate never matched to a configured one. */
    static final String OTHER = "_OTHER";

    private final MeterRegistry registry;
    private final Map<String, Server> servers = new HashMap<>();
    private final Set<String> namedDeployments = new HashSet<>();
    private final ConcurrentMap<TokenKey, DistributionSummary> tokens = new ConcurrentHashMap<>();
    private final ConcurrentMap<DurationKey, Timer> durations = new ConcurrentHashMap<>();

    GenAiMetrics(MeterRegistry registry, AigateConfig config) {
        this.registry = registry;
        config.backends()
                .forEach((name, backend) -> servers.put(name, at(backend.url().orElseThrow())));
        config.routes()
                .values()
                .forEach(route -> route.deployments().stream()
                        .filter(d -> !d.equals("*"))
                        .map(d -> d.toLowerCase(Locale.ROOT))
                        .forEach(namedDeployments::add));
        config.backends()
                .values()
                .forEach(backend -> backend.deploymentNames().keySet().stream()
                        .map(d -> d.toLowerCase(Locale.ROOT))
                        .forEach(namedDeployments::add));
    }

    /** The request's operation as a label: its route's configured template, or {@code _OTHER} before it matched. */
    public static String operation(RequestContext ctx) {
        String operation = ctx.get(OPERATION);
        return operation == null ? OTHER : operation;
    }

    static Server at(String url) {
        BackendUrl where = BackendUrl.parse(url);
        return new Server(where.host(), Integer.toString(where.port()), provider(where.host()));
    }

    /** The conventions' well-known value for the host's provider; aigate fronts Azure OpenAI unless told otherwise. */
    static String provider(String host) {
        if (host.equals("api.openai.com")) {
            return "openai";
        }
        if (host.equals("api.mistral.ai")) {
            return "mistral_ai";
        }
        if (host.endsWith(".services.ai.azure.com") && !host.endsWith(".openai.azure.com")) {
            return "azure.ai.inference";
        }
        return "azure.ai.openai";
    }

    /**
     * The conventions' {@code gen_ai.operation.name} for a configured operation template; the Responses API is a chat.
     * Other operations keep their template as a custom value ({@code images_generations}, {@code files_{file-id}}).
     */
    public static String operationName(String operation) {
        return switch (operation) {
            case "chat/completions", "responses" -> "chat";
            case "completions" -> "text_completion";
            case "embeddings" -> "embeddings";
            default -> operation.replace('/', '_');
        };
    }

    /** Where a backend is, for spans as for metrics; null for a name that is no backend. */
    public Server server(String backend) {
        return servers.get(backend);
    }

    /** The usage of one answer, reported or counted. */
    void tokens(RequestContext ctx, Usage usage) {
        Server server = servers.get(ctx.route().backend());
        if (server == null) {
            return;
        }
        String operation = operation(ctx);
        String model = model(ctx.route().deployment());
        if (usage.promptTokens() >= 0) {
            tokens.computeIfAbsent(new TokenKey(operation, model, server, "input"), this::tokenSummary)
                    .record(usage.promptTokens());
        }
        if (usage.completionTokens() >= 0 && !operation.equals("embeddings")) {
            tokens.computeIfAbsent(new TokenKey(operation, model, server, "output"), this::tokenSummary)
                    .record(usage.completionTokens());
        }
    }

    /**
     * One operation a backend answered or failed, from the request's arrival to its answer's end.
     *
     * @param error the conventions' {@code error.type}: the status code of an error answer, {@code timeout} or
     *              {@code connection_failure}; null on success
     */
    public void operation(RequestContext ctx, long nanos, String error) {
        Server server = servers.get(ctx.route().backend());
        if (server == null) {
            return; // never reached a backend
        }
        String operation = operation(ctx);
        String model = model(ctx.route().deployment());
        durations
                .computeIfAbsent(new DurationKey(operation, model, server, error), this::durationTimer)
                .record(Duration.ofNanos(nanos));
    }

    /**
     * A deployment as a label value, for every meter and span name that has one: itself where the configuration names
     * it (a route's deployments, a backend's deployment-names), else {@code _OTHER}. A backend's success proves
     * nothing: one that answers any name (a proxy, a hostile one) would let callers make a series per name.
     */
    public String model(String deployment) {
        return deployment != null && namedDeployments.contains(deployment) ? deployment : OTHER;
    }

    private DistributionSummary tokenSummary(TokenKey key) {
        return DistributionSummary.builder("gen_ai.client.token.usage")
                .description("Number of input and output tokens used (OpenTelemetry GenAI semantic conventions)")
                .tag("gen_ai.operation.name", key.operation())
                .tag("gen_ai.provider.name", key.server().provider())
                .tag("gen_ai.request.model", key.model())
                .tag("gen_ai.token.type", key.type())
                .tag("server.address", key.server().address())
                .tag("server.port", key.server().port())
                .serviceLevelObjectives(TOKEN_BUCKETS)
                .register(registry);
    }

    private Timer durationTimer(DurationKey key) {
        Timer.Builder builder = Timer.builder("gen_ai.client.operation.duration")
                .description("GenAI operation duration (OpenTelemetry GenAI semantic conventions)")
                .tag("gen_ai.operation.name", key.operation())
                .tag("gen_ai.provider.name", key.server().provider())
                .tag("gen_ai.request.model", key.model())
                .tag("server.address", key.server().address())
                .tag("server.port", key.server().port())
                .tag("error.type", key.error() == null ? "" : key.error());
        return builder.serviceLevelObjectives(DURATION_SLOS).register(registry);
    }
}
