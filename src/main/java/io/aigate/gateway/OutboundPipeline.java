package io.aigate.gateway;

import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.Consumption;
import io.aigate.tokens.LlmEmitTokenMetric;
import io.aigate.tokens.LlmTokenLimit;
import io.aigate.tokens.UsageReader;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.streams.ReadStream;
import jakarta.inject.Singleton;
import java.util.function.Consumer;

/**
 * The {@code <outbound>} section: what happens to an answer, in order. The {@link Forwarder} relays bytes and reports
 * how the exchange went (never sent, sent but unanswered, answered to its end, cut); every decision about what that
 * answer used and cost is made here, by the outbound halves of the policies the inbound section started.
 *
 * <pre>
 * &lt;outbound&gt;                                     the backend answered (headers in, body flowing)
 *   &lt;llm-emit-token-metric /&gt;   read the usage as the body passes; hide stream usage the caller did not ask for;
 *                               at the end, count what was used (reported, or counted from a stream) → Consumption
 *   &lt;llm-token-limit /&gt;         charge that Consumption against the reservation; for an answer small enough to
 *                               hold, put its exact total in tokens-consumed-header-name
 * &lt;/outbound&gt;
 * &lt;on-error&gt;                                     no answer: refused inbound, never sent, or sent and unanswered
 *   &lt;llm-token-limit /&gt;         give the reservation back only if the backend never had the request
 * &lt;/on-error&gt;
 * </pre>
 *
 * <p>Headers the inbound steps want on the answer (remaining tokens) are in {@link RequestContext#responseHeaders()}.
 */
@Singleton
public class OutboundPipeline {

    private final LlmEmitTokenMetric llmEmitTokenMetric;
    private final LlmTokenLimit llmTokenLimit;
    /** Told once per decided request, when what it used is known: the audit line waits for it. */
    private volatile Consumer<RequestContext> settled = ctx -> {};

    OutboundPipeline(LlmEmitTokenMetric llmEmitTokenMetric, LlmTokenLimit llmTokenLimit) {
        this.llmEmitTokenMetric = llmEmitTokenMetric;
        this.llmTokenLimit = llmTokenLimit;
    }

    void whenSettled(Consumer<RequestContext> listener) {
        this.settled = listener;
    }

    /** On error: the backend never had the request (a step refused it, no connection, the caller left first). */
    void notForwarded(RequestContext ctx) {
        llmTokenLimit.settle(ctx, Consumption.NOTHING);
        settled.accept(ctx);
    }

    /** On error: sent, then no answer (a timeout, a reset, the caller gone): the backend may have served it. */
    void unanswered(RequestContext ctx) {
        llmTokenLimit.settle(ctx, Consumption.UNKNOWN);
        settled.accept(ctx);
    }

    /** The answer's head is in: how its body is to pass. */
    Answer answer(RequestContext ctx, int status, MultiMap headers) {
        UsageReader usage = llmEmitTokenMetric.reader(
                status, headers.get(HttpHeaders.CONTENT_ENCODING), headers.get(HttpHeaders.CONTENT_TYPE));
        boolean whole =
                llmTokenLimit.holdsWhole(ctx, usage, HopByHop.contentLength(headers.get(HttpHeaders.CONTENT_LENGTH)));
        return new Answer(ctx, status, usage, whole ? null : llmEmitTokenMetric.passage(ctx, usage), whole);
    }

    /** One answer on its way through the outbound section. */
    final class Answer {
        private final RequestContext ctx;
        private final int status;
        private final UsageReader usage;
        private final LlmEmitTokenMetric.Passage passage;
        private final boolean holdsWhole;

        private Answer(
                RequestContext ctx,
                int status,
                UsageReader usage,
                LlmEmitTokenMetric.Passage passage,
                boolean holdsWhole) {
            this.ctx = ctx;
            this.status = status;
            this.usage = usage;
            this.passage = passage;
            this.holdsWhole = holdsWhole;
        }

        /** Whether the body is held until complete (for the tokens-consumed header) instead of flowing. */
        boolean holdsWhole() {
            return holdsWhole;
        }

        /** The body as the caller is to receive it: as it comes, or through what must see (or restore) it. */
        ReadStream<Buffer> observed(ReadStream<Buffer> body, AnswerSilence silence) {
            return passage == null
                    ? new ObservedStream(body, chunk -> chunk, Buffer::buffer, silence)
                    : new ObservedStream(body, passage.chunk(), passage.tail(), silence);
        }

        /** Whether what is relayed differs from what came, so a declared length no longer holds. */
        boolean rewrites() {
            return passage != null && passage.rewrites();
        }

        /** A held body is complete: both policies run, and the exact total goes into the answer's headers. */
        void whole(Buffer body, MultiMap answerHeaders) {
            usage.accept(body);
            Future<Consumption> used = ended(false);
            // a held answer is JSON, whose usage is read, never counted on a worker: its count is already known
            String total = used.isComplete() ? used.result().exactTotal() : null;
            if (total != null) {
                answerHeaders.set(llmTokenLimit.tokensConsumedHeader(), total);
            }
        }

        /** The answer was relayed to its end ({@code cut} false) or cut after its headers: both policies run. */
        Future<Consumption> ended(boolean cut) {
            // a count that failed on its worker still settles: the reservation is never left held
            return llmEmitTokenMetric.counted(ctx, status, usage, cut).onComplete(used -> {
                llmTokenLimit.settle(ctx, used.succeeded() ? used.result() : Consumption.UNKNOWN);
                settled.accept(ctx);
            });
        }
    }
}
