package io.aigate.tokens;

import io.aigate.pipeline.RequestContext;
import jakarta.inject.Singleton;

/**
 * The {@code <outbound>} half of {@code llm-emit-token-metric} and {@code llm-token-limit}: what an answer used,
 * counted in the metrics and settled against the request's reservation. The forwarder only reports how each answer
 * went (never sent, sent but unanswered, answered, cut); what that costs is decided here, in one place.
 *
 * <p>Nothing the backend may have served is given back: only a request it never saw, or one it refused (4xx). A 5xx,
 * an answer whose usage cannot be read (compressed, no usage field, audio) or a cut stream keep at least the
 * reservation, since the backend may have generated and billed it.
 */
@Singleton
public class AnswerAccounting {

    private final TokenMetrics tokens;

    AnswerAccounting(TokenMetrics tokens) {
        this.tokens = tokens;
    }

    /** The request never reached the backend (no connection, or the caller left first): its reservation goes back. */
    public void notForwarded(RequestContext ctx) {
        ctx.reservation().release();
    }

    /** Sent, then no answer (a timeout, a reset, the caller gone): the backend may have served and billed it. */
    public void unanswered(RequestContext ctx) {
        ctx.reservation().unknown();
    }

    /**
     * What reads this answer's usage as it passes, or null when none can: usage is read from successful answers only
     * (that is what is billed, and it keeps metric dimensions real), and only from uncompressed ones (aigate asks for
     * identity encoding; a backend that compresses anyway leaves its usage unreadable, counted as such).
     */
    public UsageReader reader(int status, String contentEncoding, String contentType) {
        return status / 100 == 2 && (contentEncoding == null || contentEncoding.equalsIgnoreCase("identity"))
                ? UsageReader.forContentType(contentType) : null;
    }

    /** An answer that was relayed to its end ({@code cut} false) or cut after its headers. */
    public void answered(RequestContext ctx, int status, UsageReader usage, boolean cut) {
        if (usage == null) {
            if (status / 100 == 4) {
                ctx.reservation().release();
            } else {
                if (status / 100 == 2) {
                    tokens.unmeasured(ctx.routeName(), ctx.backendName(), "unreadable");
                }
                ctx.reservation().unknown();
            }
            return;
        }
        Usage reported = usage.finish();
        if (reported != null && !cut) {
            tokens.record(ctx.routeName(), ctx.backendName(), ctx.deployment(), ctx.subscriptionId(), reported, false);
            ctx.reservation().used(reported.totalTokens());
            return;
        }
        tokens.unmeasured(ctx.routeName(), ctx.backendName(), cut ? "cut" : "no_usage_reported");
        if (!usage.isStream()) {
            ctx.reservation().unknown();
            return;
        }
        String model = usage.model() != null ? usage.model() : ctx.deployment();
        long prompt = TokenEstimator.prompt(ctx.json(), model);
        long completion = usage.streamedTokens(model);
        tokens.record(ctx.routeName(), ctx.backendName(), ctx.deployment(), ctx.subscriptionId(),
                new Usage(prompt, completion, prompt + completion, -1, -1), true);
        if (cut) {
            ctx.reservation().atLeast(prompt + completion); // what passed is a floor, not the whole
        } else {
            ctx.reservation().used(prompt + completion);
        }
    }
}
