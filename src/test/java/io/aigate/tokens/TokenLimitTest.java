package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Configs;
import io.aigate.testing.Keys;
import io.aigate.testing.LogCapture;
import io.aigate.testing.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code llm-token-limit} through the running sidecar: APIM's 429 and 403 answers with their headers, no backend call
 * for a refused request, reservations settled with the exact usage of JSON and streamed answers (read back from the
 * counters in Redis), and 20 concurrent requests held to the limit plus one reservation.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class TokenLimitTest extends AigateTest {

    static final Vertx VERTX = Vertx.vertx();
    /** "hi" as one user message with max_tokens 10: 3 (priming) + 4 (message) + 1 (hi) + 10 = 18 reserved. */
    static final String SMALL = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10}";

    static final long SMALL_RESERVATION = 18;
    /** What the fake reports for a JSON answer, and for a stream. */
    static final long JSON_USAGE = 19;

    static final long STREAM_USAGE = 12 + FakeAzureOpenAi.WORDS.length;

    @AfterAll
    static void close() {
        VERTX.close();
    }

    HttpRequest request(String key, String deployment, String body) {
        return HttpRequest.newBuilder(URI.create(base.toString())
                        .resolve("/openai/deployments/" + deployment + "/chat/completions?api-version=2024-10-21"))
                .header("Ocp-Apim-Subscription-Key", key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    HttpResponse<String> call(String key, String body) throws Exception {
        return HTTP.send(request(key, "gpt-4o", body), HttpResponse.BodyHandlers.ofString());
    }

    static Keys.Run create(String... limits) {
        List<String> args = new ArrayList<>(List.of("create", "--name", "limited"));
        args.addAll(List.of(limits));
        return Keys.ok(CloudDoubles.redis.url(), args.toArray(String[]::new));
    }

    /** The tokens a quota window has used, as the budget function keeps them. */
    static String redisGet(String key) throws Exception {
        Response r = RedisAPI.api(Redis.createClient(VERTX, CloudDoubles.redis.url()))
                .hget(key, "u")
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        return r == null ? null : r.toString();
    }

    /** The sidecar's one clock, which other tests of the same run move: every time here is read from it. */
    @Inject
    TestClock clock;

    String quotaKey(String subscription, QuotaPeriod period) {
        return new TokenCounter(subscription, "s:" + subscription, 0, 1, period).quotaKey(clock.instant()) + ":"
                + CloudDoubles.redis.budgetSecret();
    }

    /** Settlements run after the answer is sent: wait for the counter to show one. */
    static void awaitQuotaUsed(String key, long expected) throws Exception {
        Await.equal("tokens charged to " + key, Duration.ofSeconds(5), Long.toString(expected), () -> redisGet(key));
    }

    /** The audit line says what the token limit decided, after the request settled as well as before. */
    static void assertAudited(LogCapture logs, HttpResponse<String> response, String decision) throws Exception {
        String id = response.headers().firstValue("x-ms-client-request-id").orElseThrow();
        JsonObject line = Await.value("the audit line of " + id, Duration.ofSeconds(3), () -> logs.auditLine(id));
        assertEquals(decision, line.getString("token_limit"), line.encode());
    }

    @Test
    void overTheRateIs429WithRetryAfterAndTheBackendIsNeverCalled() throws Exception {
        try (LogCapture logs = LogCapture.start()) {
            String key = create("--tokens-per-minute", "100").key("Primary");
            long remainingBefore = Long.MAX_VALUE;
            HttpResponse<String> refused = null;
            int admitted = 0;
            HttpResponse<String> first = null;
            for (int i = 0; i < 10 && refused == null; i++) {
                HttpResponse<String> r = call(key, SMALL);
                first = first == null ? r : first;
                if (r.statusCode() == 429) {
                    refused = r;
                    break;
                }
                assertEquals(200, r.statusCode(), r.body());
                admitted++;
                long remaining = Long.parseLong(
                        r.headers().firstValue("x-aigate-remaining-tokens").orElseThrow());
                assertTrue(remaining < remainingBefore, "the bucket fills: " + remaining);
                remainingBefore = remaining;
                // a JSON answer with a limit in force is held just long enough to say what it cost
                assertEquals(
                        Long.toString(JSON_USAGE),
                        r.headers().firstValue("x-tokens-consumed").orElse(null));
            }
            assertNotNull(refused, "the limit of 100 tokens a minute was never reached");
            assertAudited(logs, first, "admitted");
            assertAudited(logs, refused, "token_limit");
            assertTrue(admitted >= 4 && admitted <= 5, admitted + " requests of 19 tokens fit in a bucket of 100");
            String retryAfter = refused.headers().firstValue("Retry-After").orElseThrow();
            long seconds = Long.parseLong(retryAfter);
            assertTrue(seconds >= 1 && seconds <= 60, retryAfter);
            assertEquals(
                    new JsonObject()
                            .put("statusCode", 429)
                            .put("message", "Token limit is exceeded. Try again in " + seconds + " seconds.")
                            .encode(),
                    refused.body());
            assertEquals(
                    "application/json",
                    refused.headers().firstValue("Content-Type").orElse("").split(";")[0]);
            for (int i = 0; i < admitted; i++) {
                assertNotNull(CloudDoubles.openAi.next(1));
            }
            assertNull(CloudDoubles.openAi.next(1), "the refused request never reached the backend");
        }
    }

    @Test
    void aSpentQuotaIs403UntilTheUtcWindowEnds() throws Exception {
        Keys.Run created = create("--token-quota", "50", "--token-quota-period", "Daily");
        String key = created.key("Primary");
        assertEquals(200, call(key, SMALL).statusCode());
        assertEquals(200, call(key, SMALL).statusCode());
        awaitQuotaUsed(quotaKey(created.id(), QuotaPeriod.DAILY), 2 * JSON_USAGE);
        HttpResponse<String> last = call(key, SMALL); // 38 used: not spent yet, and this one may overshoot it once
        assertEquals(200, last.statusCode());
        assertEquals(
                "0",
                last.headers().firstValue("x-aigate-remaining-quota-tokens").orElse(null));
        awaitQuotaUsed(quotaKey(created.id(), QuotaPeriod.DAILY), 3 * JSON_USAGE);

        HttpResponse<String> spent = call(key, SMALL);
        assertEquals(403, spent.statusCode(), spent.body());
        long untilMidnight = Duration.between(
                        clock.instant(),
                        LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC)
                                .plusDays(1)
                                .atStartOfDay(ZoneOffset.UTC)
                                .toInstant())
                .toSeconds();
        long seconds = Long.parseLong(spent.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(Math.abs(seconds - untilMidnight) <= 5, seconds + " vs " + untilMidnight);
        assertEquals(
                new JsonObject()
                        .put("statusCode", 403)
                        .put("message", "Token quota is exceeded. The quota renews in " + seconds + " seconds.")
                        .encode(),
                spent.body());
        assertEquals(
                "0",
                spent.headers().firstValue("x-aigate-remaining-quota-tokens").orElse(null));
    }

    @Test
    void reservationsAreSettledWithTheExactUsageOfJsonAndStreams() throws Exception {
        Keys.Run created = create("--token-quota", "1000000", "--token-quota-period", "Monthly");
        String key = created.key("Primary");
        String counter = quotaKey(created.id(), QuotaPeriod.MONTHLY);

        // no max_tokens: 1000 completion tokens are reserved, and given back once the answer says 19 were used
        assertEquals(
                200,
                call(key, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                        .statusCode());
        awaitQuotaUsed(counter, JSON_USAGE);

        // a stream whose caller did not ask for usage: aigate asks, reads it, hides it — and settles exactly
        HttpResponse<String> streamed =
                call(key, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + "\"stream\":true}");
        assertEquals(200, streamed.statusCode());
        assertTrue(!streamed.body().contains("\"usage\""), "the caller's stream carries no usage it did not ask for");
        assertNull(streamed.headers().firstValue("x-tokens-consumed").orElse(null), "a stream is never held");
        awaitQuotaUsed(counter, JSON_USAGE + STREAM_USAGE);

        // a backend error costs nothing: the whole reservation comes back
        HttpResponse<String> throttled =
                HTTP.send(request(key, "throttled", SMALL), HttpResponse.BodyHandlers.ofString());
        assertEquals(429, throttled.statusCode());
        assertTrue(throttled.body().contains("ChatCompletions_Create"), "the backend's own 429 is relayed");
        awaitQuotaUsed(counter, JSON_USAGE + STREAM_USAGE);

        // a stream cut after its first event keeps its reservation: what passed (9 tokens) is a floor, and the backend
        // may have generated more than reached the caller
        HttpResponse<String> cut = null;
        try {
            cut = HTTP.send(
                    request(
                            key,
                            "gpt-stall",
                            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + "\"stream\":true}"),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException expected) {
            // the caller sees the cut as a broken stream, never as a clean end
        }
        assertTrue(cut == null || cut.statusCode() == 200);
        Await.until(
                "the cut stream is charged",
                Duration.ofSeconds(5),
                () -> Long.parseLong(redisGet(counter)) != JSON_USAGE + STREAM_USAGE);
        long charged = Long.parseLong(redisGet(counter)) - JSON_USAGE - STREAM_USAGE;
        // prompt 3 + 4 + 1 and the 1000 default completion tokens reserved
        assertEquals(1008, charged);
    }

    @Test
    void aRequestTheBackendMayHaveServedIsNeverRefunded() throws Exception {
        Keys.Run created = create("--token-quota", "1000000", "--token-quota-period", "Monthly");
        String key = created.key("Primary");
        String counter = quotaKey(created.id(), QuotaPeriod.MONTHLY);
        // sent, then no answer in time: 504, but the backend had the request and may bill it
        CloudDoubles.openAi.slowMillis(3000);
        HttpResponse<String> late = HTTP.send(request(key, "gpt-slow", SMALL), HttpResponse.BodyHandlers.ofString());
        assertEquals(504, late.statusCode(), late.body());
        awaitQuotaUsed(counter, SMALL_RESERVATION);
        // never connected: the backend cannot have served it, so it costs nothing
        HttpResponse<String> dead = HTTP.send(request(key, "gpt-dead", SMALL), HttpResponse.BodyHandlers.ofString());
        assertEquals(502, dead.statusCode(), dead.body());
        awaitQuotaUsed(counter, SMALL_RESERVATION);
    }

    @Test
    void theReservationCoversEveryChoiceButNoMoreThanAnyModelWrites() throws Exception {
        String key = create("--tokens-per-minute", "200000").key("Primary");
        HttpResponse<String> r = call(
                key,
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + "\"max_tokens\":2000000000,\"n\":128}");
        assertEquals(200, r.statusCode(), r.body());
        // 8 prompt tokens + the 128000 cap, not 2.56 x 10^11: the budget is not held hostage while the request runs
        assertEquals(
                Long.toString(200000 - 8 - 128000),
                r.headers().firstValue("x-aigate-remaining-tokens").orElse(null));

        // n choices each write up to max_tokens: 8 + 3 x 10 reserved
        String other = create("--tokens-per-minute", "1000").key("Primary");
        HttpResponse<String> three =
                call(other, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]," + "\"max_tokens\":10,\"n\":3}");
        assertEquals(200, three.statusCode(), three.body());
        assertEquals(
                Long.toString(1000 - 8 - 30),
                three.headers().firstValue("x-aigate-remaining-tokens").orElse(null));
    }

    @Test
    void anotherInstanceSpendsFromTheSameBudget() throws Exception {
        Keys.Run created = create("--tokens-per-minute", "100");
        String key = created.key("Primary");
        // a second aigate instance (its own Redis client, its own fallback) spends 90 of the subscription's 100 tokens
        AigateConfig config = Configs.aigate(Map.of());
        TokenBudget other = new TokenBudget(
                config,
                Redis.createClient(VERTX, CloudDoubles.redis.url()),
                new TokenMetrics.Limit(new SimpleMeterRegistry(), config.tokenLimit()),
                clock);
        TokenCounter counter = new TokenCounter(created.id(), "s:" + created.id(), 100, 0, QuotaPeriod.MONTHLY);
        Verdict spent = other.admit(counter, 90)
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        assertTrue(spent.admitted() && "redis".equals(spent.store()), spent.toString());

        // so this instance has 10 left: the request's 18 do not fit
        HttpResponse<String> refused = call(key, SMALL);
        assertEquals(429, refused.statusCode(), refused.body());
        assertNull(CloudDoubles.openAi.next(1), "the backend was not called");
    }

    @Test
    void twentyConcurrentRequestsAdmitNoMoreThanTheLimitPlusOneReservation() throws Exception {
        String key = create("--tokens-per-minute", "100").key("Primary");
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(HTTP.sendAsync(request(key, "gpt-4o", SMALL), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        long ok = all.stream().filter(f -> f.join().statusCode() == 200).count();
        long limited = all.stream().filter(f -> f.join().statusCode() == 429).count();
        assertEquals(20, ok + limited);
        assertTrue(ok * SMALL_RESERVATION <= 100 + SMALL_RESERVATION, ok + " admitted");
        assertTrue(ok >= 1, "some were admitted");
    }
}
