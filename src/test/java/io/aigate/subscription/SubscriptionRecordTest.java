package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.QuotaPeriod;
import io.aigate.redis.RedisSchema;
import io.aigate.testing.Keys;
import io.aigate.testing.WithRealRedis;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A subscription as Redis holds it: read, written, and what happens to a record nobody can read. */
class SubscriptionRecordTest extends WithRealRedis {

    private static Subscription sample() {
        Instant t = Instant.parse("2026-11-29T10:00:00Z");
        return new Subscription(
                "team-a",
                "Team A",
                Subscription.State.ACTIVE,
                Subscription.Scope.parse("deployments:gpt-4o,gpt-4o-mini"),
                Set.of("app-1", "app-2"),
                t.plusSeconds(86_400),
                t,
                t,
                "a".repeat(64),
                null,
                t,
                t,
                new TokenLimits(1000L, null, QuotaPeriod.DAILY));
    }

    @Test
    void aRecordReadsBackAsItWasWritten() {
        Subscription written = sample();
        assertEquals(written, Subscription.fromHash(written.toHash()));
    }

    @Test
    void fieldsOlderRecordsLackReadAsAbsent() {
        Map<String, String> hash = new HashMap<>(sample().toHash());
        hash.keySet()
                .removeIf(f -> f.startsWith("token")
                        || f.equals("allowed_client_apps")
                        || f.equals("expires_at")
                        || f.equals("scope"));
        Subscription read = Subscription.fromHash(hash);
        assertEquals(TokenLimits.NONE, read.limits());
        assertEquals(Set.of(), read.allowedClientApps());
        assertNull(read.expiresAt());
        assertEquals(Subscription.Scope.ALL, read.scope());
    }

    @Test
    void scopesParseStrictly() {
        assertEquals(
                Set.of("a", "b"), Subscription.Scope.parse("routes: a, b ,").names());
        assertEquals(
                "deployments:a,b", Subscription.Scope.parse("deployments:b,a").wire());
        for (String bad : List.of("deployments:", "product:a,b", "everything", "routes", "Product:x")) {
            assertThrows(IllegalArgumentException.class, () -> Subscription.Scope.parse(bad), bad);
        }
    }

    @Test
    void malformedFieldsAreRefusedNotGuessed() {
        for (Map.Entry<String, String> bad : Map.of(
                        "state",
                        "paused",
                        "tokens_per_minute",
                        "lots",
                        "expires_at",
                        "tomorrow",
                        "token_quota_period",
                        "Fortnightly",
                        "scope",
                        "everything")
                .entrySet()) {
            Map<String, String> hash = new HashMap<>(sample().toHash());
            hash.put(bad.getKey(), bad.getValue());
            assertThrows(RuntimeException.class, () -> Subscription.fromHash(hash), bad.toString());
        }
    }

    @Test
    void aRecordNobodyCanReadOpensNothingAndIsNoOutage() throws Exception {
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "hand-edited");
        String hash = SubscriptionKeys.hash(created.key("Primary"));
        RedisAPI api = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        api.hset(List.of(RedisSchema.subscription(created.id()), "tokens_per_minute", "a lot"))
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        SubscriptionLookup lookup = InvalidationTest.instance(vertx, redis.url(), Map.of());
        InvalidationTest.awaitSubscribed(lookup);
        assertInstanceOf(
                SubscriptionLookup.Unknown.class,
                RevocationRaceTest.await(lookup.find(hash)),
                "refused like an unknown key (401), not a store failure (503)");
        assertTrue(lookup.storeUp(), "one bad record does not degrade the store: " + lookup.state());
    }
}
