package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Answer;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.QueryString;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * APIM's {@code llm-emit-token-metric}, both halves; what it keeps for one request is its {@link Instance}.
 *
 * <p>Inbound: makes sure the answer will carry its usage. A streaming request that did not ask for usage gets
 * {@code stream_options.include_usage} added (see {@link StreamUsage}).
 *
 * <p>Outbound: reads the usage of every answer as it passes, hides the usage it added from a caller who did not ask
 * for it (byte for byte), and counts what the answer used: reported by the backend, or, for a stream that ended
 * without it, counted from what passed with the model's tokenizer. What it decides the answer used
 * ({@link Consumption}) is what {@code llm-token-limit} then charges.
 */
@Singleton
public class LlmEmitTokenMetric implements Policy {

    private static final Future<Consumption> NOTHING = Future.succeededFuture(Consumption.NOTHING);
    private static final Future<Consumption> UNKNOWN = Future.succeededFuture(Consumption.UNKNOWN);

    /** Azure OpenAI accepts stream_options from this api-version on; older versions refuse the request. */
    static final String FIRST_API_VERSION_WITH_STREAM_OPTIONS = "2024-09-01";

    /**
     * What an answer used, as counted, and what the backend said of it ({@code model}, the choices' finish reasons:
     * plain words only), for the audit log and traces.
     */
    public record Counted(
            long promptTokens,
            long completionTokens,
            boolean estimated,
            String responseModel,
            java.util.List<String> finishReasons) {
        public Counted {
            finishReasons = java.util.List.copyOf(finishReasons);
        }
    }

    /** Set by the outbound half once it counted an answer's usage (reported, or counted from a stream). */
    public static final RequestContext.Part<Counted> COUNTED = RequestContext.Part.declare("tokens-counted");

    private final boolean addStreamUsage;
    private final Set<String> backendsWithStreamUsage;
    private final TokenMetrics tokens;
    private final GenAiMetrics genAi;

    LlmEmitTokenMetric(AigateConfig config, TokenMetrics tokens, GenAiMetrics genAi) {
        this.tokens = tokens;
        this.genAi = genAi;
        this.addStreamUsage = config.tokens().addStreamUsage();
        Set<String> accepting = config.backends().entrySet().stream()
                .filter(e -> e.getValue().streamUsage())
                .map(Map.Entry::getKey)
                .collect(Collectors.toSet());
        // a pool asks only when every member accepts: any of them may serve the request as it was rewritten
        config.pools().forEach((name, pool) -> {
            if (accepting.containsAll(pool.members().keySet())) {
                accepting.add(name);
            }
        });
        this.backendsWithStreamUsage = Set.copyOf(accepting);
    }

    /**
     * Whether the backend accepts {@code stream_options} on this request: the v1 API always (whatever its optional
     * api-version says), a dated api-version from {@link #FIRST_API_VERSION_WITH_STREAM_OPTIONS} on.
     */
    static boolean apiVersionAccepts(String path, String query) {
        if (path != null && path.startsWith("/openai/v1/")) {
            return true;
        }
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
    public Policy.Instance open(RequestContext ctx) {
        return new Instance();
    }

    /** One request: whether aigate asked its stream for usage, and what reads its answer. */
    final class Instance implements Policy.Instance {
        /** aigate asked a stream for usage its caller did not ask for: the answer's usage is hidden again. */
        private boolean usageAdded;

        private int status;
        private UsageReader usage;

        @Override
        public Future<Outcome> onRequestBody(RequestContext ctx) {
            // only (chat) completions know stream_options (the Responses API reports usage in its completed event
            // anyway), and only where the backend and the api-version accept it: asking must never break a request.
            // Where it cannot be asked, the answer's usage may be missing, and is then charged as at least the
            // reservation.
            if (addStreamUsage
                    && ctx.json() != null
                    && ctx.inbound().operation().endsWith("completions")
                    && backendsWithStreamUsage.contains(ctx.route().backend())
                    && apiVersionAccepts(ctx.inbound().path(), ctx.inbound().query())) {
                StreamUsage.Asked asked = StreamUsage.requestUsage(ctx.json());
                if (asked.problem() != null) {
                    return Future.succeededFuture(Outcome.refuse(new UsageRefusal(asked.problem())));
                }
                if (asked.body() != null) {
                    ctx.replaceBody(asked.body(), asked.tree());
                    usageAdded = true;
                }
            }
            return PROCEED;
        }

        /** Reads the answer's usage as it passes, and hides what aigate asked for from a caller who did not. */
        @Override
        public void onAnswer(RequestContext ctx, Answer answer) {
            status = answer.status();
            usage = UsageReader.of(readable(answer));
            if (usage == null) {
                return;
            }
            UsageReader reading = usage;
            if (usageAdded && reading.isStream()) {
                SseRestorer restorer = new SseRestorer();
                answer.filter(
                        chunk -> {
                            reading.accept(chunk);
                            return restorer.accept(chunk);
                        },
                        restorer::finish,
                        true);
            } else {
                answer.filter(
                        chunk -> {
                            reading.accept(chunk);
                            return chunk;
                        },
                        Buffer::buffer,
                        false);
            }
        }

        /** What the request used, for {@code llm-token-limit} to charge: a count that fails still settles. */
        @Override
        public Future<Void> onEnd(RequestContext ctx, Ending ending) {
            Future<Consumption> used = switch (ending) {
                case NOT_SENT -> NOTHING;
                case UNANSWERED -> UNKNOWN;
                case ANSWERED, CUT -> status == 0 ? UNKNOWN : counted(ctx, status, usage, ending == Ending.CUT);
            };
            return used.otherwise(Consumption.UNKNOWN).map(known -> {
                ctx.put(Consumption.PART, known);
                return null;
            });
        }
    }

    // ---- outbound ----

    /**
     * One Realtime response's exact usage, from its {@code response.done}: counted as any answer's (aigate's token
     * meters, the GenAI ones), its audio part beside it. A session is many responses; the gateway keeps their sum.
     */
    public void realtime(RequestContext ctx, RealtimeUsage used) {
        Usage usage = used.asUsage();
        tokens.record(
                ctx.route().name(),
                ctx.route().backend(),
                ctx.route().deployment(),
                ctx.caller().subscriptionId(),
                usage,
                false);
        tokens.audio(
                ctx.route().name(),
                ctx.route().backend(),
                ctx.route().deployment(),
                ctx.caller().subscriptionId(),
                used.inputAudioTokens(),
                used.outputAudioTokens());
        genAi.tokens(ctx, usage);
    }

    /** A Realtime response that ended without a usage aigate could believe. */
    public void realtimeUnmeasured(RequestContext ctx) {
        tokens.unmeasured(ctx.route().name(), ctx.route().backend(), "realtime_no_usage");
    }

    /**
     * What of this answer's usage can be read as it passes ({@link UsageReader.Kind#NONE}: nothing): usage is read from successful answers only
     * (that is what is billed, and it keeps metric dimensions real), and only from uncompressed ones (aigate asks for
     * identity encoding; a backend that compresses anyway leaves its usage unreadable, counted as such).
     */
    static UsageReader.Kind readable(Answer answer) {
        String encoding = answer.headers().get(HttpHeaders.CONTENT_ENCODING);
        return answer.status() / 100 == 2 && (encoding == null || encoding.equalsIgnoreCase("identity"))
                ? UsageReader.kindOf(answer.headers().get(HttpHeaders.CONTENT_TYPE))
                : UsageReader.Kind.NONE;
    }

    /**
     * Counts an answer that was relayed to its end ({@code cut} false) or cut after its headers, and says what it used.
     * Only a refusal (4xx) used nothing; a 5xx, an unreadable answer or a cut one used at least what is known. Complete
     * at once, except for a stream counted with an encoding not yet loaded: that count waits on a worker, never on the
     * event loop (a JSON answer is never counted with the tokenizer, so its future is always complete).
     */
    public Future<Consumption> counted(RequestContext ctx, int status, UsageReader usage, boolean cut) {
        if (usage == null) {
            if (status / 100 == 4) {
                return NOTHING;
            }
            if (status / 100 == 2) {
                tokens.unmeasured(ctx.route().name(), ctx.route().backend(), "unreadable");
            }
            return UNKNOWN;
        }
        Usage reported = usage.finish();
        if (reported != null && !cut) {
            record(ctx, usage, reported, false);
            return Future.succeededFuture(Consumption.exactly(reported.totalTokens()));
        }
        tokens.unmeasured(
                ctx.route().name(),
                ctx.route().backend(),
                cut ? "cut" : usage.distrusted() ? "implausible_usage" : "no_usage_reported");
        if (!usage.isStream()) {
            return UNKNOWN;
        }
        String model = usage.model() != null ? usage.model() : ctx.route().deployment();
        Context context = Vertx.currentContext();
        if (!TokenEstimator.loadedFor(model) && context != null) {
            return context.executeBlocking(() -> estimated(ctx, usage, model), false);
        }
        return Future.succeededFuture(estimated(ctx, usage, model));
    }

    private Consumption estimated(RequestContext ctx, UsageReader usage, String model) {
        long prompt = TokenEstimator.prompt(ctx.json(), model);
        long completion = usage.streamedTokens(model);
        record(ctx, usage, new Usage(prompt, completion, prompt + completion, -1, -1), true);
        // an estimate is a floor, never the charge: whatever made the usage unreadable (a cut, a backend that gives
        // none, a request on which it could not be asked) must not make the request cheaper than its reservation
        return Consumption.atLeast(prompt + completion);
    }

    /** What an answer used, reported or counted: aigate's token metrics, the GenAI ones, and the record of it. */
    private void record(RequestContext ctx, UsageReader answer, Usage used, boolean estimated) {
        tokens.record(
                ctx.route().name(),
                ctx.route().backend(),
                ctx.route().deployment(),
                ctx.caller().subscriptionId(),
                used,
                estimated);
        genAi.tokens(ctx, used);
        ctx.put(
                COUNTED,
                new Counted(
                        used.promptTokens(),
                        used.completionTokens(),
                        estimated,
                        answer.model(),
                        answer.finishReasons()));
    }
}
