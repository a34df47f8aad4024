package io.aigate.tokens;

import io.aigate.pipeline.RequestContext;
import io.vertx.core.buffer.Buffer;
import jakarta.inject.Singleton;

import java.util.function.Function;
import java.util.function.Supplier;

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

    /** Answers up to this size may be held for the tokens-consumed header; larger ones always flow through. */
    static final long TOKENS_CONSUMED_MAX_BODY = 4L << 20;

    /**
     * Whether to hold this answer until complete, so a header can carry the tokens it used (APIM's
     * {@code tokens-consumed-header-name}): only when that header is configured, for a JSON answer of a known size up
     * to 4 MB, never for a stream.
     */
    public boolean holdsWhole(RequestContext ctx, UsageReader usage, long declaredLength) {
        return usage != null && !usage.isStream() && ctx.tokensConsumedHeader() != null
                && declaredLength >= 0 && declaredLength <= TOKENS_CONSUMED_MAX_BODY;
    }

    /** The tokens-consumed header's value for a held answer, or null when its usage could not be read. */
    public String tokensConsumed(UsageReader usage) {
        Usage used = usage.finish();
        return used == null ? null : Long.toString(used.totalTokens());
    }

    /**
     * What every chunk of a flowing answer passes through: the usage reader, and for a stream whose caller did not
     * ask for usage ({@code llm-emit-token-metric} asked for it) the restorer that hides it again, byte for byte.
     */
    public record Passage(Function<Buffer, Buffer> chunk, Supplier<Buffer> tail, boolean rewrites) {
    }

    /** The passage for this answer, or null when nothing reads it. */
    public Passage passage(RequestContext ctx, UsageReader usage) {
        if (usage == null) {
            return null;
        }
        if (ctx.streamUsageAdded() && usage.isStream()) {
            SseRestorer restorer = new SseRestorer();
            return new Passage(chunk -> {
                usage.accept(chunk);
                return restorer.accept(chunk);
            }, restorer::finish, true);
        }
        return new Passage(chunk -> {
            usage.accept(chunk);
            return chunk;
        }, Buffer::buffer, false);
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
