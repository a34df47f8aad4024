package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.RequestContext;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Configs;
import io.aigate.testing.Keys;
import io.aigate.testing.Requests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.redis.client.Redis;
import java.time.Clock;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Microbenchmark of layer 1 (run by bench/cache-hit.sh, not by the test suite): the cost of the subscription-key step
 * on a cache hit (header read, checksum, SHA-256, cache lookup, state and scope checks), against a miss that asks a
 * real Redis on loopback.
 */
public final class CacheHitBench {

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
        LocalRedis redis = new LocalRedis(LocalRedis.freePort()).start();
        Vertx vertx = Vertx.vertx();
        try {
            String primary = Keys.ok(redis.url(), "create", "--name", "bench").key("Primary");
            AigateConfig config = Configs.aigate(
                    Map.of("aigate.subscription-key.cache-ttl", "10m", "aigate.subscription-key.outage-grace", "10m"));
            SubscriptionLookup lookup = new SubscriptionLookup(
                    config.subscriptionKey(),
                    Redis.createClient(vertx, redis.url()),
                    new SimpleMeterRegistry(),
                    Clock.systemUTC());
            ValidateSubscriptionKey step = new ValidateSubscriptionKey(config, lookup, Clock.systemUTC());
            MultiMap headers = HttpHeaders.headers()
                    .add("Ocp-Apim-Subscription-Key", primary)
                    .add("Content-Type", "application/json");
            RequestContext ctx = Requests.chat(headers, "default", "aoai", "gpt-4o");

            // misses: each a fresh well-formed key, so each one is a Redis round trip
            long[] miss = new long[2000];
            for (int i = 0; i < miss.length; i++) {
                RequestContext fresh = Requests.chat(
                        HttpHeaders.headers().add("Ocp-Apim-Subscription-Key", SubscriptionKeys.generate()),
                        "default",
                        "aoai",
                        "gpt-4o");
                long t = System.nanoTime();
                step.onRequestHeaders(fresh)
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(5, TimeUnit.SECONDS);
                miss[i] = System.nanoTime() - t;
            }
            Arrays.sort(miss);

            Outcome first = step.onRequestHeaders(ctx)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            if (!first.proceeds()) {
                throw new IllegalStateException("the bench key was refused: " + first);
            }
            int accepted = 0;
            for (int round = 0; round < 3; round++) { // the first rounds warm the JIT
                long t = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    if (step.onRequestHeaders(ctx).result().proceeds()) {
                        accepted++;
                    }
                }
                long ns = System.nanoTime() - t;
                System.out.printf(
                        "cache hit, round %d: %.0f ns/op over %,d calls%n",
                        round + 1, (double) ns / iterations, iterations);
            }
            System.out.printf(
                    "cache miss (a Redis round trip on loopback): p50 %.1f us, p99 %.1f us%n",
                    miss[miss.length / 2] / 1000.0, miss[miss.length * 99 / 100] / 1000.0);
            System.out.println("accepted " + accepted + " of " + 3L * iterations);
        } finally {
            vertx.close();
            redis.close();
        }
    }
}
