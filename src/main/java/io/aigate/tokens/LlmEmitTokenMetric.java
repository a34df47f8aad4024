package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Step;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import jakarta.inject.Singleton;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * APIM's {@code llm-emit-token-metric}, inbound half: makes sure the answer will carry its usage. A streaming request
 * that did not ask for usage gets {@code stream_options.include_usage} added; the forwarder reads the usage and
 * hides what was added (see {@link StreamUsage}). The counting itself happens as the answer passes.
 */
@Singleton
public class LlmEmitTokenMetric implements Step {

    private static final Future<Outcome> PROCEED = Future.succeededFuture(Outcome.proceed());

    /** Azure OpenAI accepts stream_options from this api-version on; older versions refuse the request. */
    static final String FIRST_API_VERSION_WITH_STREAM_OPTIONS = "2024-09-01";

    private final boolean addStreamUsage;
    private final Set<String> backendsWithStreamUsage;

    LlmEmitTokenMetric(AigateConfig config) {
        this.addStreamUsage = config.tokens().addStreamUsage();
        this.backendsWithStreamUsage = config.backends().entrySet().stream()
                .filter(e -> e.getValue().streamUsage()).map(Map.Entry::getKey).collect(Collectors.toSet());
    }

    static boolean apiVersionAccepts(String query) {
        String version = QueryString.first(query, "api-version");
        if (version == null) {
            return true; // the v1 API has no api-version
        }
        return version.length() >= 10 && version.substring(0, 10).compareTo(FIRST_API_VERSION_WITH_STREAM_OPTIONS) >= 0;
    }

    @Override
    public String name() {
        return "llm-emit-token-metric";
    }

    @Override
    public boolean needsBody() {
        return true;
    }

    @Override
    public Future<Outcome> apply(RequestContext ctx) {
        // only (chat) completions know stream_options (the Responses API reports usage in its completed event anyway),
        // and only where the backend and the api-version accept it: asking must never break a request
        if (addStreamUsage && ctx.json() != null && ctx.operation().endsWith("completions")
                && backendsWithStreamUsage.contains(ctx.backendName()) && apiVersionAccepts(ctx.rawQuery())) {
            Buffer withUsage = StreamUsage.requestUsage(ctx.json());
            if (withUsage != null) {
                ctx.replaceBody(withUsage);
                ctx.streamUsageAdded(true);
            }
        }
        return PROCEED;
    }
}
