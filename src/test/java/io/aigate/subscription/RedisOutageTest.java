package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class RedisOutageTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/openai/deployments/gpt-4o/chat/completions")
    URL chat;

    @TestHTTPResource(value = "/", management = true)
    URL management;

    HttpResponse<String> call(String key) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(chat.toString()))
                        .header("Ocp-Apim-Subscription-Key", key)
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String get(String path) throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(management.toString()).resolve(path))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    static void await(BooleanSupplier condition, long millis, String what) throws Exception {
        Await.until(what, Duration.ofMillis(millis), condition::getAsBoolean);
    }

    boolean metric(String line) {
        try {
            return get("/q/metrics").contains(line);
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void cachedKeysKeepWorkingUnknownOnesGet503AndRecoveryNeedsNoRestart() throws Exception {
        String warm = Keys.ok(CloudDoubles.redis.url(), "create", "--name", "warm", "--tokens-per-minute", "100000")
                .key("Primary");
        String cold =
                Keys.ok(CloudDoubles.redis.url(), "create", "--name", "cold").key("Primary");
        HttpResponse<String> fleetWide = call(warm);
        assertEquals(200, fleetWide.statusCode());
        assertTrue(fleetWide.headers().firstValue("x-aigate-token-limit").isEmpty(), "budgets in Redis");

        CloudDoubles.stopRedis();
        try {
            await(() -> metric("aigate_subscription_store_up 0.0"), 10_000, "the store is reported degraded");
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> local = call(warm);
                assertEquals(200, local.statusCode(), "a key confirmed within the grace keeps working");
                // the token limit fell back to this instance's share, and says so on every answer
                assertEquals(
                        "local-fallback",
                        local.headers().firstValue("x-aigate-token-limit").orElse(null));
            }
            assertTrue(metric("aigate_token_limit_store_up 0.0"));
            assertTrue(metric("aigate_token_limit_requests_total{result=\"admitted\",store=\"local\"}"));
            HttpResponse<String> unknown = call(cold);
            assertEquals(503, unknown.statusCode(), unknown.body());
            assertEquals("5", unknown.headers().firstValue("Retry-After").orElse(null));
            assertEquals(503, new JsonObject(unknown.body()).getInteger("statusCode"));
            assertTrue(metric("aigate_subscription_decisions_total{layer=\"subscription-key\","
                    + "result=\"store_unavailable\"}"));

            JsonObject ready = new JsonObject(get("/q/health/ready"));
            assertEquals("UP", ready.getString("status"), "an outage of Redis does not take the pod out");
            assertTrue(ready.encode().contains("redis unreachable"), ready.encode());
        } finally {
            CloudDoubles.startRedisAgain();
        }
        await(
                () -> {
                    try {
                        return call(cold).statusCode() == 200;
                    } catch (Exception e) {
                        return false;
                    }
                },
                15_000,
                "the key unknown to the cache works once Redis is back, without a restart");
        await(() -> metric("aigate_subscription_store_up 1.0"), 15_000, "the store is reported up again");
        await(
                () -> {
                    try {
                        return call(warm)
                                .headers()
                                .firstValue("x-aigate-token-limit")
                                .isEmpty();
                    } catch (Exception e) {
                        return false;
                    }
                },
                15_000,
                "token budgets are fleet-wide again once Redis is back");
        assertTrue(metric("aigate_token_limit_store_up 1.0"));
    }
}
