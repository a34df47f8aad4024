package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.config.CounterKey;
import io.aigate.config.QuotaPeriod;
import io.aigate.pipeline.Answer;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Sha256;
import io.aigate.subscription.TokenLimits;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * APIM's {@code llm-token-limit}, both halves.
 *
 * <p>What it keeps for one request is its {@link Instance}.
 *
 * <p>Inbound: a request goes on only if its counter's budget can take it. Admission reserves the prompt (counted with
 * the model's tokenizer) plus the completion the request allows ({@code max_tokens}, or
 * {@code default-completion-tokens}). With every reservation taken atomically in Redis, concurrent requests cannot
 * overshoot a limit by more than one request's reservation.
 *
 * <p>Outbound (and on error): what the answer used ({@link Consumption}, from {@code llm-emit-token-metric}) replaces
 * the reservation; a request the backend never had gives it back; {@code tokens-consumed-header-name} carries the
 * exact total of answers small enough to hold.
 */
@Singleton
public class LlmTokenLimit implements Policy {

    /** Tells the caller (and whoever reads its logs) that the fleet-wide budget was not consulted. */
    public static final String FALLBACK_HEADER = "x-aigate-token-limit";

    /** {@code admitted} once a limit applied and let the request through: for the audit line and the span. */
    static final RequestContext.Part<String> DECISION = RequestContext.Part.declare("token-limit-decision");

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private final AigateConfig.TokenLimit config;
    private final CounterKey.Kind counterKey;
    private final String counterHeader;
    private final TokenBudget budget;
    private final boolean anyDefault;
    private final String tokensConsumedHeader;

    LlmTokenLimit(AigateConfig.TokenLimit config, CounterKey key, TokenBudget budget) {
        this.config = config;
        this.counterKey = key.kind();
        this.counterHeader = key.header();
        this.budget = budget;
        this.anyDefault = this.config.tokensPerMinute().isPresent()
                || this.config.tokenQuota().isPresent();
        this.tokensConsumedHeader = this.config.tokensConsumedHeaderName().orElse(null);
        if (this.config.estimatePromptTokens() && anyDefault) {
            // limits configured for everyone: every request will need the tokenizer, so it is loaded at start.
            // Otherwise only subscriptions with limits of their own need it, and it is loaded when the first comes.
            TokenEstimator.preloadInBackground();
        }
    }

    @Override
    public String name() {
        return "llm-token-limit";
    }

    @Override
    public Policy.Instance open(RequestContext ctx) {
        return new Instance();
    }

    /** One request: the tokens its admission set aside, and the answer held for the tokens-consumed header. */
    final class Instance implements Policy.Instance {
        /** Settled once, at the request's end, whichever way it ends. */
        private Reservation reservation;

        private Answer held;

        @Override
        public Future<Outcome> onRequestBody(RequestContext ctx) {
            TokenLimits own = ctx.get(TokenLimits.PART);
            if ((!anyDefault && (own == null || own.isEmpty()))
                    || !ctx.inbound().generatesTokens()) {
                return PROCEED; // the common case without limits costs nothing more; listing models spends nothing
            }
            TokenCounter counter = counterFor(ctx);
            if (!counter.limited()) {
                return PROCEED;
            }
            Context context = Vertx.currentContext();
            if (config.estimatePromptTokens()
                    && !TokenEstimator.loadedFor(ctx.route().deployment())
                    && context != null) {
                // this model's encoding may still have to be loaded: the estimate waits for it on a worker, never on
                // the event loop
                return context.executeBlocking(() -> reservation(ctx), false)
                        .compose(reserve -> admit(ctx, counter, reserve));
            }
            return admit(ctx, counter, reservation(ctx));
        }

        private Future<Outcome> admit(RequestContext ctx, TokenCounter counter, long reserve) {
            return budget.admit(counter, reserve).map(verdict -> {
                Outcome decided = decide(ctx, counter, reserve, verdict);
                if (decided.proceeds()) {
                    // settled into the window it was judged in, even if the answer ends in the next one
                    reservation = budget.reservation(
                            new TokenBudget.Hold(counter, verdict.decidedAt(), reserve, verdict.store()));
                    ctx.put(DECISION, "admitted");
                }
                return decided;
            });
        }

        /**
         * Holds the answer until complete, so a header can carry the tokens it used (APIM's
         * {@code tokens-consumed-header-name}): only when that header is configured, for a JSON answer whose usage is
         * read, of a known size up to 4 MB; never a stream.
         */
        @Override
        public void onAnswer(RequestContext ctx, Answer answer) {
            if (tokensConsumedHeader == null || reservation == null) {
                return;
            }
            long declared = answer.declaredLength();
            if (LlmEmitTokenMetric.readable(answer) == UsageReader.Kind.JSON
                    && declared >= 0
                    && declared <= TOKENS_CONSUMED_MAX_BODY) {
                answer.holdWhole();
                held = answer;
            }
        }

        /** Charges what the answer used (as {@code llm-emit-token-metric} found) against the reservation. */
        @Override
        public Future<Void> onEnd(RequestContext ctx, Ending ending) {
            if (reservation == null) {
                return DONE;
            }
            Consumption used = ctx.get(Consumption.PART);
            if (used == null) {
                used = ending == Ending.NOT_SENT ? Consumption.NOTHING : Consumption.UNKNOWN;
            }
            if (ctx.mayHaveBeenServedBefore()) {
                // an earlier attempt may have been served and billed: whatever the last answer says, nothing comes back
                used = switch (used.kind()) {
                    case NOTHING -> Consumption.UNKNOWN;
                    case EXACTLY -> Consumption.atLeast(used.tokens());
                    default -> used;
                };
            }
            settle(reservation, used);
            reservation = null; // settled once
            String total = used.exactTotal();
            if (held != null && total != null) {
                held.callerHeaders().set(tokensConsumedHeader, total);
            }
            return DONE;
        }
    }

    /**
     * The prompt plus what the request allows the model to write, bounded: every number in it was checked when the
     * body was read (whole, within range), each factor is capped, so no body can make it negative or overflow.
     */
    long reservation(RequestContext ctx) {
        TokenEstimator.Demand demand =
                TokenEstimator.demand(ctx.json(), ctx.route().deployment(), config.estimatePromptTokens());
        long perChoice = demand.maxCompletionTokens() >= 0
                ? demand.maxCompletionTokens()
                : ctx.inbound().operation().endsWith("embeddings") ? 0 : config.defaultCompletionTokens();
        long completion = Math.min(
                Math.max(0, config.maxCompletionReservation()),
                perChoice > Long.MAX_VALUE / demand.choices() ? Long.MAX_VALUE : perChoice * demand.choices());
        return Math.max(0, demand.promptTokens()) + Math.max(0, completion);
    }

    private Outcome refuse(LimitRefusal.Kind kind, long seconds, Map<String, String> headers) {
        long wait = Math.max(1, seconds);
        headers.put(config.retryAfterHeaderName(), Long.toString(wait));
        return Outcome.refuse(new LimitRefusal(kind, wait, headers));
    }

    private Outcome decide(RequestContext ctx, TokenCounter counter, long reserve, Verdict verdict) {
        Map<String, String> headers = new HashMap<>();
        config.remainingTokensHeaderName()
                .filter(h -> verdict.remainingTokens() >= 0)
                .ifPresent(h -> headers.put(h, Long.toString(verdict.remainingTokens())));
        config.remainingQuotaTokensHeaderName()
                .filter(h -> verdict.remainingQuotaTokens() >= 0)
                .ifPresent(h -> headers.put(h, Long.toString(verdict.remainingQuotaTokens())));
        if (!"redis".equals(verdict.store())) {
            headers.put(FALLBACK_HEADER, "local".equals(verdict.store()) ? "local-fallback" : "unenforced");
        }
        switch (verdict.result()) {
            case RATE_LIMITED -> {
                return refuse(LimitRefusal.Kind.RATE, verdict.retryAfterSeconds(), headers);
            }
            case QUOTA_EXCEEDED -> {
                Instant at = verdict.decidedAt();
                return refuse(
                        LimitRefusal.Kind.QUOTA,
                        Duration.between(at, counter.period().windowEnd(at)).toSeconds(),
                        headers);
            }
            case UNAVAILABLE -> {
                return refuse(LimitRefusal.Kind.UNAVAILABLE, verdict.retryAfterSeconds(), headers);
            }
            default -> {
                headers.forEach(ctx::addResponseHeader);
                return Outcome.proceed();
            }
        }
    }

    /**
     * A Realtime session's budget, or null when no limit applies to its caller. The session is many responses, each
     * admitted as a request would be: reserved at its {@code response.create} (or when the backend starts one of its
     * own), settled by its {@code response.done}.
     */
    public Session session(RequestContext ctx) {
        TokenLimits own = ctx.get(TokenLimits.PART);
        if (!anyDefault && (own == null || own.isEmpty())) {
            return null;
        }
        TokenCounter counter = counterFor(ctx);
        return counter.limited() ? new Session(ctx, counter) : null;
    }

    /** One Realtime session's admissions; touched on the session's event loop only. */
    public final class Session {
        private final RequestContext ctx;
        private final TokenCounter counter;

        private Session(RequestContext ctx, TokenCounter counter) {
            this.ctx = ctx;
            this.counter = counter;
        }

        /**
         * What one response may use: the input it will read is at least what the last one read (the conversation only
         * grows), plus what it may write ({@code max_output_tokens} when a whole number, else
         * {@code default-completion-tokens}), bounded by {@code max-completion-reservation}.
         *
         * @param response the {@code response} object of a {@code response.create}, or null
         */
        public long reservation(long lastInputTokens, com.fasterxml.jackson.databind.JsonNode response) {
            com.fasterxml.jackson.databind.JsonNode max = response == null ? null : response.get("max_output_tokens");
            long completion = max != null && max.isIntegralNumber() && max.canConvertToLong() && max.longValue() >= 0
                    ? max.longValue()
                    : config.defaultCompletionTokens();
            completion = Math.min(Math.max(0, config.maxCompletionReservation()), completion);
            return Math.min(TokenBudget.MAX_USAGE, Math.max(0, lastInputTokens)) + completion;
        }

        /**
         * Admits one response: its reservation, or the refusal whose message the caller is told (a Realtime
         * {@code error} event carries it; the session goes on).
         */
        public Future<Admitted> admit(long tokens) {
            return budget.admit(counter, tokens).map(verdict -> {
                Outcome decided = decide(ctx, counter, tokens, verdict);
                if (!decided.proceeds()) {
                    return new Admitted(null, (LimitRefusal) decided.refusal());
                }
                ctx.put(DECISION, "admitted");
                return new Admitted(
                        budget.reservation(new TokenBudget.Hold(counter, verdict.decidedAt(), tokens, verdict.store())),
                        null);
            });
        }
    }

    /** One response's admission: a reservation to settle, or the refusal. */
    public record Admitted(Reservation reservation, LimitRefusal refusal) {}

    /** Settles one Realtime response's reservation with what it used (nothing comes back unless nothing was sent). */
    public static void settle(Reservation reservation, RealtimeUsage used, boolean sent) {
        if (reservation == null) {
            return;
        }
        settle(
                reservation,
                used != null
                        ? Consumption.exactly(used.totalTokens())
                        : sent ? Consumption.UNKNOWN : Consumption.NOTHING);
    }

    /** {@code admitted} when a limit applied and let the request through; null when none applied (or it refused). */
    public static String decision(RequestContext ctx) {
        return ctx.get(DECISION);
    }

    /** The subscription's own limits over the configured defaults, and whose budget this request spends. */
    TokenCounter counterFor(RequestContext ctx) {
        TokenLimits own = ctx.get(TokenLimits.PART);
        if (own == null) {
            own = TokenLimits.NONE;
        }
        long tpm = own.tokensPerMinute() != null
                ? own.tokensPerMinute()
                : config.tokensPerMinute().orElse(0);
        long quota = own.tokenQuota() != null
                ? own.tokenQuota()
                : config.tokenQuota().orElse(0);
        // a quota without a period (a hand-edited record) takes the configured period, else the month
        QuotaPeriod period = own.tokenQuotaPeriod() != null
                ? own.tokenQuotaPeriod()
                : config.tokenQuotaPeriod().orElse(QuotaPeriod.MONTHLY);
        String who = switch (counterKey) {
            case SUBSCRIPTION -> ctx.caller().subscriptionId();
            case CLIENT_APP -> ctx.caller().clientAppId();
            case HEADER -> headerWithin(ctx);
        };
        String label;
        String tag;
        if (who == null || who.isEmpty()) {
            // callers the counter key cannot tell apart share one budget: none of them escapes the limit
            label = "anonymous";
            tag = "anonymous";
        } else if (counterKey != CounterKey.Kind.HEADER && PLAIN.matcher(who).matches()) {
            label = who;
            tag = (counterKey == CounterKey.Kind.SUBSCRIPTION ? "s:" : "a:") + who;
        } else {
            // header values are the caller's: only a digest reaches Redis keys and metric labels
            tag = (counterKey == CounterKey.Kind.HEADER ? "h:" : "x:")
                    + Sha256.hex(who).substring(0, 16);
            label = tag;
        }
        return new TokenCounter(label, tag, Math.max(0, tpm), Math.max(0, quota), period);
    }

    /**
     * A header's value names a budget inside the caller's own subscription (else its client app): the caller chooses
     * the value, so it may split its own budget per value, but never name, spend or lock another subscriber's (two
     * subscriptions sending {@code x-team: blue} count apart). A request without the header spends its subscription's
     * no-header budget. Null when nothing tells the caller apart.
     */
    private String headerWithin(RequestContext ctx) {
        String scope = ctx.caller().subscriptionId() != null
                ? "s:" + ctx.caller().subscriptionId()
                : ctx.caller().clientAppId() != null ? "a:" + ctx.caller().clientAppId() : "";
        String value = ctx.inbound().headers().get(counterHeader);
        value = value == null ? "" : value;
        return scope.isEmpty() && value.isEmpty() ? null : scope + "\n" + value;
    }

    // ---- outbound ----

    /** Answers up to this size may be held for the tokens-consumed header; larger ones always flow through. */
    static final long TOKENS_CONSUMED_MAX_BODY = 4L << 20;

    /** The settlement: what the answer used replaces the reservation. */
    private static void settle(Reservation reservation, Consumption used) {
        switch (used.kind()) {
            case NOTHING -> reservation.release();
            case UNKNOWN -> reservation.unknown();
            case EXACTLY -> reservation.used(used.tokens());
            case AT_LEAST -> reservation.atLeast(used.tokens());
        }
    }
}
