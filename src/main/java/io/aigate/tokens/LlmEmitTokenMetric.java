package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Step;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import jakarta.inject.Singleton;

/**
 * APIM's {@code llm-emit-token-metric}, inbound half: makes sure the answer will carry its usage. A streaming request
 * that did not ask for usage gets {@code stream_options.include_usage} added; the forwarder reads the usage and
 * hides what was added (see {@link StreamUsage}). The counting itself happens as the answer passes.
 */
@Singleton
public class LlmEmitTokenMetric implements Step {

    private static final Future<Outcome> PROCEED = Future.succeededFuture(Outcome.proceed());

    private final boolean addStreamUsage;

    LlmEmitTokenMetric(AigateConfig config) {
        this.addStreamUsage = config.tokens().addStreamUsage();
    }

    @Override
    public String name() {
        return "llm-emit-token-metric";
    }

    @Override
    public Future<Outcome> apply(RequestContext ctx) {
        // only (chat) completions know stream_options; the Responses API reports usage in its completed event anyway
        if (addStreamUsage && "POST".equals(ctx.method()) && ctx.path().endsWith("/completions")) {
            Buffer withUsage = StreamUsage.requestUsage(ctx.body());
            if (withUsage != null) {
                ctx.replaceBody(withUsage);
                ctx.streamUsageAdded(true);
            }
        }
        return PROCEED;
    }
}
