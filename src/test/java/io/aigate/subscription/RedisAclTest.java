package io.aigate.subscription;

import static io.aigate.subscription.InvalidationTest.awaitSubscribed;
import static io.aigate.subscription.InvalidationTest.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.aigate.redis.RedisSchema;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Await;
import io.aigate.testing.Keys;
import io.aigate.tokens.QuotaPeriod;
import io.aigate.tokens.RedisTokenBudgetAccess;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Redis users shipped in {@code deploy/redis}, on a real redis-server: everything a sidecar does works as the
 * sidecar user and everything the CLI does works as the admin user; every write, read or command outside a user's
 * part is refused by Redis itself.
 */
class RedisAclTest {

    static LocalRedis redis;
    static Vertx vertx;
    static String sidecarUrl;
    static String adminUrl;

    @BeforeAll
    static void start() throws Exception {
        // sidecar.acl grants its one PUBLISH by a selector (%R~, Redis 7); the bundled Redis 6 would refuse the rule
        io.aigate.testing.RedisOnPath.server(7, "ACL selectors in deploy/redis/sidecar.acl");
        redis = new LocalRedis(LocalRedis.freePort()).start();
        vertx = Vertx.vertx();
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        for (String user : List.of("sidecar", "admin")) {
            List<String> args = new ArrayList<>(List.of("SETUSER", "aigate-" + user, "on", ">" + user + "-secret"));
            args.addAll(List.of(rule(user).split("\\s+")));
            await(root.acl(args));
        }
        sidecarUrl = "redis://aigate-sidecar:sidecar-secret@127.0.0.1:" + redis.port();
        adminUrl = "redis://aigate-admin:admin-secret@127.0.0.1:" + redis.port();
    }

    @AfterAll
    static void stop() {
        // null when start() failed (no redis-server to run): its one sentence is the report, not a trace after it
        if (vertx != null) {
            vertx.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    /** The rule line of {@code deploy/redis/<user>.acl} (comments are lines starting with #). */
    static String rule(String user) throws Exception {
        return Files.readAllLines(Path.of("deploy/redis", user + ".acl")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#"))
                .findFirst()
                .orElseThrow()
                .trim();
    }

    static <T> T await(Future<T> future) throws Exception {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    static void refused(String what, Future<?> command) {
        try {
            Object result = await(command);
            fail(what + " was allowed: " + result);
        } catch (Exception e) {
            assertTrue(String.valueOf(e.getMessage()).startsWith("NOPERM"), what + ": " + e);
        }
    }

    @Test
    void theAdminUserRunsEveryCliCommandAndNothingElse() throws Exception {
        Keys.Run created =
                Keys.ok(adminUrl, "create", "--name", "acl-admin", "--id", "acl-admin", "--expires-in", "30d");
        Keys.ok(adminUrl, "rotate", "acl-admin", "--which", "secondary");
        Keys.ok(adminUrl, "limits", "acl-admin", "--tokens-per-minute", "1000");
        Keys.ok(adminUrl, "suspend", "acl-admin");
        Keys.ok(adminUrl, "activate", "acl-admin");
        Keys.ok(adminUrl, "list");
        Keys.ok(adminUrl, "show", "acl-admin");
        Keys.ok(adminUrl, "revoke", "acl-admin");
        Keys.ok(adminUrl, "delete", "acl-admin");
        assertTrue(created.key("Primary").startsWith("aig_"));

        RedisAPI admin = RedisAPI.api(Redis.createClient(vertx, adminUrl));
        refused("FLUSHALL", admin.flushall(List.of()));
        refused("CONFIG GET", admin.config(List.of("GET", "requirepass")));
        refused("KEYS", admin.keys("*"));
        refused("a token budget", admin.set(List.of("aigate:v1:limit:{s:acl-admin}:rate", "0")));
        refused("another key space", admin.get("session:1"));
        refused("ACL LIST", admin.acl(List.of("LIST")));
    }

    @Test
    void theSidecarUserDoesEverythingASidecarDoesAndCannotAdministerAnything() throws Exception {
        Keys.Run created =
                Keys.ok(adminUrl, "create", "--name", "acl-sidecar", "--id", "acl-sidecar", "--expires-in", "3d");
        String hash = SubscriptionKeys.hash(created.key("Primary"));

        // lookups, the invalidation channel and its keepalive
        SubscriptionLookup lookup =
                instance(vertx, sidecarUrl, Map.of("aigate.subscription-key.invalidation-keepalive", "200ms"));
        awaitSubscribed(lookup);
        assertInstanceOf(SubscriptionLookup.Known.class, await(lookup.find(hash)));
        Thread.sleep(600); // time must pass: three keepalive PINGs on the subscribed connection, under this user
        assertTrue(lookup.storeUp(), "PINGs answered under the sidecar user: " + lookup.state());
        Keys.ok(adminUrl, "suspend", "acl-sidecar");
        Await.until(
                "the sidecar user hears invalidations",
                Duration.ofSeconds(3),
                () -> await(lookup.find(hash)) instanceof SubscriptionLookup.Known k
                        && k.found().subscription().state() == Subscription.State.SUSPENDED);
        // the expiry gauge and the token budgets
        Redis sidecar = Redis.createClient(vertx, sidecarUrl);
        SubscriptionStore store = new SubscriptionStore(sidecar, 2000);
        assertTrue(await(store.countExpiringBefore(Instant.now().plusSeconds(7 * 86400))) >= 0);
        assertEquals("ADMITTED", RedisTokenBudgetAccess.admitAndSettle(sidecar, 1000, 100_000, QuotaPeriod.DAILY));

        RedisAPI api = RedisAPI.api(sidecar);
        refused(
                "writing a subscription",
                api.hset(List.of(RedisSchema.subscription("acl-sidecar"), "state", "active")));
        refused("linking a key", api.set(List.of(RedisSchema.key("f".repeat(64)), "acl-sidecar primary")));
        refused("deleting a subscription", api.del(List.of(RedisSchema.subscription("acl-sidecar"))));
        refused(
                "a script writing a subscription",
                api.eval(List.of(
                        "return redis.call('HSET', KEYS[1], 'state', 'active')",
                        "1",
                        RedisSchema.subscription("acl-sidecar"))));
        refused("publishing an invalidation", api.publish(RedisSchema.INVALIDATE_CHANNEL, "acl-sidecar"));
        // a backend's rest is shared with the fleet: published and heard by the sidecars themselves
        await(api.publish(RedisSchema.BACKEND_REST_CHANNEL, "acl-sidecar 1000 https://ptu.openai.azure.com"));
        refused("publishing on another channel", api.publish("aigate:v1:other", "x"));
        refused("listing subscriptions", api.smembers(RedisSchema.SUBSCRIPTIONS));
        refused("another key space", api.get("session:1"));
        refused("FLUSHALL", api.flushall(List.of()));
        refused("CONFIG SET", api.config(List.of("SET", "maxmemory", "1")));
        refused("KEYS", api.keys("*"));
        refused("CLIENT KILL", api.client(List.of("KILL", "ID", "1")));
        refused("ACL SETUSER", api.acl(List.of("SETUSER", "aigate-sidecar", "+@all")));
    }

    @Test
    void aSubscriptionRedisRefusesIsNeverTakenForOne() throws Exception {
        // a sidecar user whose rules lack the invalidation channel (or any other channel: none is allowed)
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        List<String> args = new ArrayList<>(List.of("SETUSER", "aigate-deaf", "on", ">deaf-secret"));
        args.addAll(List.of(
                rule("sidecar").replace("&aigate:v1:invalidate", "").trim().split("\\s+")));
        await(root.acl(args));
        SubscriptionLookup deaf = instance(
                vertx,
                "redis://aigate-deaf:deaf-secret@127.0.0.1:" + redis.port(),
                Map.of("aigate.subscription-key.redis-timeout", "300ms"));
        Thread.sleep(1500); // time must pass: what is checked is that the channel never comes up, over several tries
        assertTrue(!deaf.storeUp(), "revocations would go unheard: " + deaf.state());
    }

    @Test
    void theAzureCachePolicyRunsTheSidecarAndStillRefusesAdministration() throws Exception {
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        List<String> args = new ArrayList<>(List.of("SETUSER", "aigate-sidecar6", "on", ">six-secret"));
        args.addAll(List.of(rule("sidecar.azure-cache").split("\\s+")));
        await(root.acl(args));
        String url = "redis://aigate-sidecar6:six-secret@127.0.0.1:" + redis.port();
        Keys.Run created = Keys.ok(adminUrl, "create", "--name", "acl-six", "--id", "acl-six");
        SubscriptionLookup lookup = instance(vertx, url, Map.of());
        awaitSubscribed(lookup);
        assertInstanceOf(
                SubscriptionLookup.Known.class, await(lookup.find(SubscriptionKeys.hash(created.key("Primary")))));
        Redis six = Redis.createClient(vertx, url);
        assertEquals("ADMITTED", RedisTokenBudgetAccess.admitAndSettle(six, 1000, 100_000, QuotaPeriod.DAILY));
        RedisAPI api = RedisAPI.api(six);
        refused("FLUSHALL", api.flushall(List.of()));
        refused("CONFIG SET", api.config(List.of("SET", "maxmemory", "1")));
        refused("KEYS", api.keys("*"));
        refused("ACL SETUSER", api.acl(List.of("SETUSER", "aigate-sidecar6", "+@all")));
        refused("another key space", api.get("session:1"));
        await(api.publish(RedisSchema.BACKEND_REST_CHANNEL, "acl-six 1000 https://ptu.openai.azure.com"));
        refused("publishing on another channel", api.publish("aigate:v1:other", "x"));
        refused("deleting a subscription", api.del(List.of(RedisSchema.subscription("acl-six"))));
    }
}
