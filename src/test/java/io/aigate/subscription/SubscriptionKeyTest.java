package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.aigate.testing.LogCapture;
import io.aigate.testing.TestClock;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class SubscriptionKeyTest extends AigateTest {

    @Inject
    TestClock clock;

    @Inject
    ExpiryWatch expiryWatch;

    HttpResponse<String> call(String deployment, String query, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.toString())
                        .resolve("/openai/deployments/" + deployment + "/chat/completions" + query))
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}"));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    int status(String key) throws Exception {
        return call("gpt-4o", "", "Ocp-Apim-Subscription-Key", key).statusCode();
    }

    static void assertRefused(HttpResponse<String> response, String message) {
        assertEquals(401, response.statusCode(), response.body());
        assertEquals(
                new JsonObject().put("statusCode", 401).put("message", message).encode(), response.body());
    }

    void assertBackendUntouched() throws InterruptedException {
        assertNull(CloudDoubles.openAi.next(1), "the backend must not have been contacted");
    }

    static Keys.Run create(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "create";
        System.arraycopy(args, 0, all, 1, args.length);
        return Keys.ok(CloudDoubles.redis.url(), all);
    }

    /** Polls until the status is the expected one; returns how long it took. */
    static Duration until(int expected, IntSupplier status, Duration limit) throws Exception {
        return Await.until("status " + expected, limit, () -> status.getAsInt() == expected);
    }

    IntSupplier statusOf(String key) {
        return () -> {
            try {
                return status(key);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Test
    void aMissingKeyGetsApimsMissingKeyAnswer() throws Exception {
        assertRefused(call("gpt-4o", ""), KeyRefusal.MISSING.message());
        assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", ""), KeyRefusal.MISSING.message());
        assertBackendUntouched();
    }

    @Test
    void malformedUnknownAndForgedKeysAllGetTheSameAnswer() throws Exception {
        String unknown = SubscriptionKeys.generate();
        String forged = CloudDoubles.key.substring(0, CloudDoubles.key.length() - 1)
                + (CloudDoubles.key.endsWith("0") ? "1" : "0");
        for (String bad : new String[] {"not-a-key", unknown, forged, CloudDoubles.key + "x", "aig_' OR 1=1 --"}) {
            assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", bad), KeyRefusal.UNKNOWN.message());
        }
        assertBackendUntouched();
    }

    @Test
    void theHeaderWinsOverTheQueryAndTheSdksApiKeyHeaderIsAccepted() throws Exception {
        String other = SubscriptionKeys.generate();
        assertEquals(
                200,
                call("gpt-4o", "?subscription-key=" + other, "Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .statusCode());
        assertRefused(
                call("gpt-4o", "?subscription-key=" + CloudDoubles.key, "Ocp-Apim-Subscription-Key", other),
                KeyRefusal.UNKNOWN.message());
        assertEquals(
                200,
                call("gpt-4o", "?api-version=2024-10-21&subscription-key=" + CloudDoubles.key)
                        .statusCode());
        assertEquals(
                200, call("gpt-4o", "", "api-key", CloudDoubles.secondaryKey).statusCode());
        assertEquals(
                200,
                call("gpt-4o", "", "Authorization", "Bearer " + CloudDoubles.key)
                        .statusCode(),
                "the OpenAI SDKs send their key as a bearer token");
        assertRefused(
                call("gpt-4o", "", "Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.x"), KeyRefusal.MISSING.message());
        CloudDoubles.openAi.clear();
        call("gpt-4o", "?subscription-key=" + CloudDoubles.key + "&api-version=1");
        var got = CloudDoubles.openAi.next(5);
        assertEquals("api-version=1", got.query(), "the key never reaches the backend");
    }

    @Test
    void stateChangesAreSeenWithinTwoSecondsAcrossTheFleet() throws Exception {
        Keys.Run run = create("--name", "state-test");
        String id = run.id();
        String key = run.key("Primary");
        assertEquals(200, status(key)); // cached now (cache-ttl 30 s): only an invalidation can refuse it this fast

        Keys.ok(CloudDoubles.redis.url(), "suspend", id);
        Duration seen = until(401, statusOf(key), Duration.ofSeconds(2));
        assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", key), KeyRefusal.UNKNOWN.message());

        Keys.ok(CloudDoubles.redis.url(), "activate", id);
        until(200, statusOf(key), Duration.ofSeconds(2));

        Keys.ok(CloudDoubles.redis.url(), "revoke", id);
        until(401, statusOf(key), Duration.ofSeconds(2));
        assertEquals(401, status(run.key("Secondary")));
        assertEquals(5, Keys.cli(CloudDoubles.redis.url(), "activate", id).exit(), "a cancelled subscription stays so");
        assertTrue(seen.toMillis() < 2000, "suspension took " + seen);
    }

    @Test
    void bothKeysWorkAndRotationKeepsTheOtherOneWorking() throws Exception {
        Keys.Run run = create("--name", "rotation-test");
        String primary = run.key("Primary");
        String secondary = run.key("Secondary");
        assertEquals(200, status(primary));
        assertEquals(200, status(secondary));

        Keys.Run rotated = Keys.ok(CloudDoubles.redis.url(), "rotate", run.id(), "--which", "primary");
        String newPrimary = rotated.key("New primary");
        until(401, statusOf(primary), Duration.ofSeconds(2));
        assertEquals(200, status(secondary), "the secondary keeps working through a primary rotation");
        assertEquals(200, status(newPrimary));
    }

    @Test
    void aKeyOutsideItsScopeIsRefusedLikeAnUnknownOne() throws Exception {
        String deployments = create("--name", "mini-only", "--scope", "deployments:gpt-4o-mini")
                .key("Primary");
        assertEquals(
                200,
                call("gpt-4o-mini", "", "Ocp-Apim-Subscription-Key", deployments)
                        .statusCode());
        assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", deployments), KeyRefusal.UNKNOWN.message());

        String product =
                create("--name", "chat-product", "--scope", "product:chat").key("Primary");
        assertEquals(
                200, call("gpt-4o", "", "Ocp-Apim-Subscription-Key", product).statusCode());
        assertRefused(call("gpt-4o-mini", "", "Ocp-Apim-Subscription-Key", product), KeyRefusal.UNKNOWN.message());

        String unknownProduct =
                create("--name", "ghost", "--scope", "product:ghost").key("Primary");
        assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", unknownProduct), KeyRefusal.UNKNOWN.message());

        String route = create("--name", "route-only", "--scope", "routes:short").key("Primary");
        assertEquals(
                200, call("gpt-short", "", "Ocp-Apim-Subscription-Key", route).statusCode());
        assertRefused(call("gpt-4o", "", "Ocp-Apim-Subscription-Key", route), KeyRefusal.UNKNOWN.message());
    }

    @Test
    void anExpiredSubscriptionIsRefusedEvenFromTheCache() throws Exception {
        String key = create(
                        "--name",
                        "short-lived",
                        "--expires-at",
                        clock.instant().plusSeconds(60).toString())
                .key("Primary");
        assertEquals(200, status(key)); // cached now
        clock.advance(Duration.ofSeconds(61));
        try {
            assertEquals(401, status(key), "an expiry is checked on every request, cached or not");
        } finally {
            clock.advance(Duration.ofSeconds(-61));
        }
        String past = create("--name", "already-expired", "--expires-at", "2020-01-01T00:00:00Z")
                .key("Primary");
        assertEquals(401, status(past));
        Keys.Run listed = Keys.ok(CloudDoubles.redis.url(), "list");
        assertTrue(listed.out().contains("expired"), listed.out());
    }

    double expiringGauge() throws Exception {
        String metrics = metrics();
        var m = java.util.regex.Pattern.compile(
                        "^aigate_subscriptions_expiring\\{within=\"14d\"} (\\S+)$", java.util.regex.Pattern.MULTILINE)
                .matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void subscriptionsExpiringWithinTwoWeeksAreCountedForAlertsAndLeaveTheCountWhenRevoked() throws Exception {
        double before = counted();
        // the later one first: a count that includes the soon one then includes both
        create("--name", "expires-later", "--expires-in", "60d");
        Keys.Run soon = create("--name", "expires-soon", "--expires-in", "3d");
        assertEquals(before + 1, counted(), "the one expiring in 3 days counts, the one in 60 days does not");
        Keys.ok(CloudDoubles.redis.url(), "revoke", soon.id());
        assertEquals(before, counted(), "a revoked subscription no longer counts as expiring");
        clock.advance(Duration.ofDays(50));
        try {
            assertEquals(before + 1, counted(), "50 days on, the later one is within two weeks of its end");
        } finally {
            clock.advance(Duration.ofDays(-50));
        }
    }

    /** Has the watch count now, and reads the count from the metrics endpoint, as an alert would. */
    private double counted() throws Exception {
        expiryWatch.check().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        return expiringGauge();
    }

    @Test
    void noKeyEverAppearsInALogLineOrAnErrorBody() throws Exception {
        String unknown = SubscriptionKeys.generate();
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> refused = call("gpt-4o", "?subscription-key=" + unknown);
            HttpResponse<String> allowed = call("gpt-4o", "", "Ocp-Apim-Subscription-Key", CloudDoubles.key);
            assertEquals(200, allowed.statusCode());
            assertFalse(refused.body().contains(unknown));
            Await.until(
                    "the access log wrote the refusal",
                    Duration.ofSeconds(2),
                    () -> !logs.lines().isEmpty());
            for (String line : logs.lines()) {
                assertFalse(line.contains(unknown) || line.contains(CloudDoubles.key), line);
                assertFalse(line.contains("aig_"), line);
            }
        }
    }

    @Test
    void decisionsAreCountedByReason() throws Exception {
        call("gpt-4o", "");
        String metrics = metrics();
        assertTrue(
                metrics.contains("aigate_subscription_decisions_total{layer=\"subscription-key\",result=\"missing\"}"),
                metrics);
        assertTrue(metrics.contains("aigate_subscription_cache_total{result=\"hit\"}"));
        assertTrue(metrics.contains("aigate_subscription_store_up 1.0"));
        assertTrue(metrics.contains("aigate_subscription_redis_seconds"));
    }
}
