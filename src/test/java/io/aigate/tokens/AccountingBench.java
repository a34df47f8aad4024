package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Configs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Microbenchmark of token accounting (run by bench/accounting.sh, not by the test suite): what aigate adds to one
 * request to count its tokens — reading the usage of a JSON answer and recording it, reading a stream's events as they
 * pass (per event, so the cost to time-to-first-token is visible), estimating a prompt for the limit's reservation —
 * and, separately, the limit's admission: one script call on a real Redis on loopback.
 */
public final class AccountingBench {

    static final String REQUEST = "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
            + "{\"role\":\"user\",\"content\":\"Write a haiku about Kubernetes sidecars and token budgets.\"}],"
            + "\"max_tokens\":200}";

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        AigateConfig config = Configs.aigate(Map.of());
        TokenMetrics metrics = new TokenMetrics(new SimpleMeterRegistry(), config);
        Buffer json = Buffer.buffer(FakeAzureOpenAi.completion("gpt-4o"));
        Buffer request = Buffer.buffer(REQUEST);
        Buffer event = Buffer.buffer("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
                + "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},"
                + "\"finish_reason\":null}],\"usage\":null}\n\n");
        Buffer usageEvent = Buffer.buffer("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
                + "\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,"
                + "\"total_tokens\":19}}\n\n");

        long sink = 0;
        double jsonNs = 0;
        double estimateNs = 0;
        double eventNs = 0;
        double jsonBytes = 0;
        double estimateBytes = 0;
        double eventBytes = 0;
        for (int round = 0; round < 4; round++) { // the first rounds warm the JIT; the last one is reported
            long t = System.nanoTime();
            long a = allocated();
            for (int i = 0; i < iterations; i++) {
                UsageReader reader = UsageReader.of(UsageReader.kindOf("application/json"));
                reader.accept(json);
                Usage used = reader.finish();
                metrics.record("default", "aoai", "gpt-4o", "bench", used, false);
                sink += used.totalTokens();
            }
            jsonNs = (System.nanoTime() - t) / (double) iterations;
            jsonBytes = (allocated() - a) / (double) iterations;

            t = System.nanoTime();
            a = allocated();
            for (int i = 0; i < iterations; i++) {
                sink += TokenEstimator.demand(
                                io.aigate.pipeline.JsonBody.parse(request).object(), "gpt-4o", true)
                        .promptTokens();
            }
            estimateNs = (System.nanoTime() - t) / (double) iterations;
            estimateBytes = (allocated() - a) / (double) iterations;

            t = System.nanoTime();
            a = allocated();
            for (int i = 0; i < iterations / 10; i++) {
                UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
                SseRestorer restorer = new SseRestorer();
                for (int e = 0; e < 10; e++) {
                    reader.accept(event);
                    sink += restorer.accept(event).length();
                }
                reader.accept(usageEvent);
                sink += restorer.accept(usageEvent).length();
                sink += reader.finish().totalTokens();
            }
            eventNs = (System.nanoTime() - t) / (double) (iterations / 10 * 11);
            eventBytes = (allocated() - a) / (double) (iterations / 10 * 11);
        }

        LocalRedis redis = new LocalRedis(LocalRedis.freePort()).start();
        Vertx vertx = Vertx.vertx();
        long[] admit = new long[20_000];
        try {
            TokenBudget budget = new TokenBudget(
                    config,
                    Redis.createClient(vertx, redis.url()),
                    new TokenMetrics.Limit(new SimpleMeterRegistry(), config.tokenLimit()),
                    Clock.systemUTC());
            TokenCounter counter =
                    new TokenCounter("bench", "s:bench", 1_000_000_000_000L, 1_000_000_000_000L, QuotaPeriod.MONTHLY);
            for (int i = 0; i < admit.length; i++) {
                long t = System.nanoTime();
                Verdict v = budget.admit(counter, 212)
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(5, TimeUnit.SECONDS);
                admit[i] = System.nanoTime() - t;
                if (!v.admitted() || !"redis".equals(v.store())) {
                    throw new IllegalStateException("not admitted by Redis: " + v);
                }
            }
        } finally {
            vertx.close();
            redis.close();
        }
        long[] measured = Arrays.copyOfRange(admit, admit.length / 2, admit.length);
        Arrays.sort(measured);

        System.out.printf(
                "JSON answer: read usage + record metrics   %8.0f ns %7.0f B per answer   (target <= 100000 ns)%n",
                jsonNs, jsonBytes);
        System.out.printf(
                "stream: read + restore one SSE event         %8.0f ns %7.0f B per event%n", eventNs, eventBytes);
        System.out.printf(
                "request body: strict parse + prompt estimate %8.0f ns %7.0f B per request%n",
                estimateNs, estimateBytes);
        System.out.printf(
                "limit admission (EVALSHA, loopback Redis)   p50 %6.0f us   p99 %6.0f us   (measured from "
                        + "a caller thread: includes two thread hops)%n",
                measured[measured.length / 2] / 1e3, measured[(int) (measured.length * 0.99)] / 1e3);
        System.out.println("(checksum " + sink + ")");
    }

    /** Bytes this thread has allocated so far: what one operation costs the garbage collector. */
    static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }
}
