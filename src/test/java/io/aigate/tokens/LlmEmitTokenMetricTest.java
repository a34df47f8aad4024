package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Caller;
import io.aigate.pipeline.RequestContext;
import io.aigate.testing.Configs;
import io.aigate.testing.Requests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The outbound count of a stream that reported no usage never loads a tokenizer on the event loop. */
class LlmEmitTokenMetricTest {

    static final Vertx VERTX = Vertx.vertx();

    @AfterAll
    static void close() {
        VERTX.close();
    }

    final AigateConfig config = Configs.aigate(Map.of());
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final LlmEmitTokenMetric metric =
            new LlmEmitTokenMetric(config, new TokenMetrics(registry, config), new GenAiMetrics(registry, config));

    /** A stream of {@code model} that says "Hello there, world" and ends without usage. */
    static UsageReader usageLessStream(String model) {
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        for (String piece : new String[] {"Hello", " there", ", world"}) {
            JsonObject event = new JsonObject()
                    .put("model", model)
                    .put(
                            "choices",
                            new io.vertx.core.json.JsonArray()
                                    .add(new JsonObject()
                                            .put("index", 0)
                                            .put("delta", new JsonObject().put("content", piece))));
            reader.accept(Buffer.buffer("data: " + event.encode() + "\n\n"));
        }
        reader.accept(Buffer.buffer("data: [DONE]\n\n"));
        return reader;
    }

    RequestContext request(String deployment) {
        RequestContext ctx = Requests.chat(HttpHeaders.headers(), "default", "aoai", deployment);
        ctx.caller(Caller.subscribed("team-a", Set.of()));
        ctx.body(
                Buffer.buffer("{\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}"),
                (com.fasterxml.jackson.databind.node.ObjectNode) io.vertx.core.json.jackson.DatabindCodec.mapper()
                        .createObjectNode()
                        .set(
                                "messages",
                                io.vertx.core.json.jackson.DatabindCodec.mapper()
                                        .createArrayNode()
                                        .add(io.vertx.core.json.jackson.DatabindCodec.mapper()
                                                .createObjectNode()
                                                .put("role", "user")
                                                .put("content", "Say hello"))));
        return ctx;
    }

    /** Runs the count on an event loop; says whether it was complete before the event loop let go. */
    record Counted(Consumption used, boolean completeAtOnce, boolean onEventLoop) {}

    Counted countOnEventLoop(String model) throws Exception {
        CompletableFuture<Counted> done = new CompletableFuture<>();
        VERTX.getOrCreateContext().runOnContext(v -> {
            Future<Consumption> used = metric.counted(request(model), 200, usageLessStream(model), false);
            boolean atOnce = used.isComplete();
            AtomicBoolean loop = new AtomicBoolean();
            used.onComplete(r -> {
                loop.set(io.vertx.core.Context.isOnEventLoopThread());
                if (r.failed()) {
                    done.completeExceptionally(r.cause());
                } else {
                    done.complete(new Counted(r.result(), atOnce, loop.get()));
                }
            });
        });
        return done.get(30, TimeUnit.SECONDS);
    }

    @Test
    void aModelWhoseEncodingIsNotLoadedIsCountedOnAWorkerAndTheAnswerComesBackToItsEventLoop() throws Exception {
        String model = "unseen-" + UUID.randomUUID();
        assertFalse(TokenEstimator.loadedFor(model));

        Counted first = countOnEventLoop(model);
        assertFalse(first.completeAtOnce(), "the count left the event loop: this model's encoding was not ready");
        assertTrue(first.onEventLoop(), "the settlement that follows runs on the request's event loop again");
        long expected = TokenEstimator.count("Hello there, world", model)
                + TokenEstimator.prompt(request(model).json(), model);
        assertEquals(
                Consumption.atLeast(expected),
                first.used(),
                "priming + one message + the prompt, and the text: a floor, charged as at least the reservation");
        assertNotEquals(0, expected);

        Counted again = countOnEventLoop(model);
        assertTrue(again.completeAtOnce(), "once loaded, the count is done in place");
        assertEquals(first.used(), again.used());
    }

    @Test
    void aLongStreamOfAModelNotYetLoadedStartsItsLoadAndLosesNothing() throws Exception {
        String model = "long-" + UUID.randomUUID();
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        String piece = "word ".repeat(1000);
        for (int i = 0; i < 10; i++) { // 50,000 characters: past the size at which a stream is counted as it goes
            reader.accept(Buffer.buffer("data: {\"model\":\"" + model + "\",\"choices\":[{\"delta\":{\"content\":\""
                    + piece + "\"}}]}\n\n"));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!TokenEstimator.loadedFor(model) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(TokenEstimator.loadedFor(model), "its encoding was looked up in the background");
        // counted in pieces as the encoding became ready, against the whole text counted at once (itself exact only up
        // to the estimator's bound, extrapolated past it): one lost piece would be a tenth
        long whole = TokenEstimator.count(piece.repeat(10), model);
        long counted = reader.streamedTokens(model);
        assertTrue(Math.abs(counted - whole) <= whole / 100 + 10, "nothing is lost: " + counted + " against " + whole);
    }
}
