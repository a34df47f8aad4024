package io.aigate.subscription;

import static io.aigate.subscription.InvalidationTest.awaitSubscribed;
import static io.aigate.subscription.InvalidationTest.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.aigate.config.QuotaPeriod;
import io.aigate.redis.RedisFunctions;
import io.aigate.redis.RedisSchema;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Await;
import io.aigate.testing.Keys;
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

    static String budgetSecret;

    @BeforeAll
    static void start() throws Exception {
        // sidecar.acl grants its one PUBLISH by a selector (%R~, Redis 7); the bundled Redis 6 would refuse the rule
        io.aigate.testing.RedisOnPath.server(7, "ACL selectors in deploy/redis/sidecar.acl");
        redis = new LocalRedis(LocalRedis.freePort()).start();
        vertx = Vertx.vertx();
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        List<String> admin = new ArrayList<>(List.of("SETUSER", "aigate-admin", "on", ">admin-secret"));
        admin.addAll(List.of(rule("admin").split("\\s+")));
        await(root.acl(admin));
        adminUrl = "redis://aigate-admin:admin-secret@127.0.0.1:" + redis.port();
        // the one documented install, as the administrators' user: the production library (Redis's own clock),
        // keeping the secret the suite's Redis was first installed with
        budgetSecret = Keys.ok(adminUrl, "install-functions").json().getString("budgetSecret");
        assertEquals(redis.budgetSecret(), budgetSecret, "a second install keeps the secret");
        List<String> sidecar = new ArrayList<>(List.of("SETUSER", "aigate-sidecar", "on", ">sidecar-secret"));
        sidecar.addAll(List.of(sidecarRule().split("\\s+")));
        await(root.acl(sidecar));
        sidecarUrl = "redis://aigate-sidecar:sidecar-secret@127.0.0.1:" + redis.port();
    }

    /** deploy/redis/sidecar.acl as an operator applies it: with the secret the install printed. */
    static String sidecarRule() throws Exception {
        return rule("sidecar").replace("<budget-secret>", budgetSecret);
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

    /**
     * The issue's hostile commands, as the sidecars' user: no script of its own, no library change, no direct write to
     * any budget (another team's or its own), no junk under the prefix, no way to read the secret or list keys; and
     * through the function, nothing it passes can lock, reset or stall a budget beyond what its own requests could.
     */
    @Test
    void theSidecarUserMovesBudgetsOnlyThroughTheFunction() throws Exception {
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        RedisAPI api = RedisAPI.api(Redis.createClient(vertx, sidecarUrl));
        String victim = "s:acl-victim";
        assertEquals(
                "ADMITTED",
                RedisTokenBudgetAccess.admitAndSettle(
                        Redis.createClient(vertx, sidecarUrl), 1000, 100_000, QuotaPeriod.DAILY));
        // another team's budget, admitted by an honest sidecar: the attacker knows its name but the secret
        await(fcall(api, victim, "admit", "0", "1000", "100", "0", "none", "0"));
        String victimRate = RedisSchema.limitRate(victim, budgetSecret);
        assertEquals(1L, await(root.exists(List.of(victimRate))).toLong());

        refused("EVAL of its own script", api.eval(List.of("while true do end", "0")));
        refused("EVAL_RO", api.evalRo(List.of("return 1", "0")));
        refused("EVALSHA", api.evalsha(List.of("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0")));
        refused("SCRIPT LOAD", api.script(List.of("LOAD", "return 1")));
        refused("HSET on a budget", api.hset(List.of(RedisSchema.limit(victim) + ":rate", "t", "99999999999999")));
        refused(
                "HSET on a budget, with a guessed secret",
                api.hset(List.of(RedisSchema.limitRate(victim, "0".repeat(32)), "t", "99999999999999")));
        refused("SET on a budget", api.set(List.of(RedisSchema.limit(victim), "0")));
        refused("PEXPIRE on a budget", api.pexpire(List.of(RedisSchema.limit(victim), "1")));
        refused("DEL of a budget", api.del(List.of(victimRate)));
        refused("junk under the prefix", api.set(List.of(RedisSchema.PREFIX + "limit:junk", "x".repeat(1000))));
        refused(
                "FUNCTION LOAD",
                api.function(List.of(
                        "LOAD",
                        "REPLACE",
                        "#!lua name=aigate\nredis.register_function('x', function() return 1 end)")));
        refused("FUNCTION DELETE", api.function(List.of("DELETE", RedisFunctions.LIBRARY)));
        refused("FUNCTION FLUSH", api.function(List.of("FLUSH")));
        refused("FUNCTION LIST (the secret)", api.function(List.of("LIST", "WITHCODE")));
        refused("FUNCTION DUMP", api.function(List.of("DUMP")));
        refused("another function", api.fcall(List.of("aigate_version", "0")));
        refused("CONFIG GET", api.config(List.of("GET", "*")));
        refused("ACL GETUSER (the secret)", api.acl(List.of("GETUSER", "aigate-sidecar")));
        refused("KEYS", api.keys(RedisSchema.PREFIX + "limit:*"));
        refused("SCAN", api.scan(List.of("0", "MATCH", RedisSchema.PREFIX + "limit:*")));
        refused("RANDOMKEY", api.randomkey());
        // a subscribed connection answers no command future: Redis's own dry run says whether it would be allowed
        assertTrue(
                await(root.acl(List.of("DRYRUN", "aigate-sidecar", "PSUBSCRIBE", "__keyspace@0__:*")))
                        .toString()
                        .contains("no permissions"),
                "keyspace events would name the budget keys");
        refused("the function on a subscription key", fcall(api, null, "admit", "0", "1000", "1", "0", "none", "0"));

        // through the function: keys of the right shape, numbers in range, or nothing happens
        for (List<String> bad : List.of(
                List.of("admit", "0", "1e18", "1", "0", "none", "0"),
                List.of("admit", "0", "1000", "-5", "0", "none", "0"),
                List.of("admit", "0", "1000", "99999999999999999", "0", "none", "0"),
                List.of("admit", "0", "1000", "0x10", "0", "none", "0"),
                List.of("admit", "0", "1000", "1", "1000", "Forever", "0"),
                List.of("reset", "0", "1000", "1", "0", "none", "0"))) {
            rejected(bad.toString(), fcall(api, victim, bad.toArray(String[]::new)));
        }
        refused(
                "a key of another shape",
                fcallOn(api, RedisSchema.limit(victim) + ":rate", "admit", "0", "1000", "1", "0", "none", "0"));
        rejected(
                "a key the ACL pattern lets through",
                fcallOn(api, RedisSchema.limit(victim) + ":rate:{x}", "admit", "0", "1000", "1", "0", "none", "0"));
        // the drain time is Redis's own: whatever time a caller sends, none is stored in the future
        await(fcall(api, victim, "admit", "99999999999999", "1000", "1", "0", "none", "0"));
        long redisNow = await(root.time()).get(0).toLong() * 1000 + 1000;
        assertTrue(Long.parseLong(await(root.hget(victimRate, "t")).toString()) <= redisNow, "no future drain");

        // a forged refund gives back no more than is still reserved: after the honest settlements, nothing
        String own = "s:acl-attacker";
        String start =
                Long.toString(QuotaPeriod.DAILY.windowStart(Instant.now()).getEpochSecond());
        await(fcall(api, own, "admit", "0", "0", "100", "1000000", "Daily", start));
        await(fcall(api, own, "settle", "0", "0", "0", "1000000", "Daily", start, "-40", "0", "100"));
        String quota = RedisSchema.limitQuota(own, "Daily:" + start) + ":" + budgetSecret;
        assertEquals("60", await(root.hget(quota, "u")).toString());
        for (int i = 0; i < 3; i++) {
            await(fcall(
                    api, own, "settle", "0", "0", "0", "1000000", "Daily", start, "-2147483647", "0", "2147483647"));
        }
        assertEquals("60", await(root.hget(quota, "u")).toString(), "forged refunds reset nothing");
        // nor can a caller pick a fresh quota window of its own: settlements into a window not yet begun are refused
        for (Map.Entry<String, Long> window : Map.of(
                        "a window in the future", 86400L,
                        "a window that is no window's start", 7L)
                .entrySet()) {
            rejected(
                    window.getKey(),
                    fcall(
                            api,
                            own,
                            "settle",
                            "0",
                            "0",
                            "0",
                            "1000000",
                            "Daily",
                            Long.toString(Long.parseLong(start) + window.getValue()),
                            "-1",
                            "0",
                            "1"));
        }
    }

    /** FCALL of the budget function on a counter (null: on a subscription's key, which it may not write). */
    static Future<io.vertx.redis.client.Response> fcall(RedisAPI api, String counter, String... args) {
        return fcallOn(
                api, counter == null ? RedisSchema.subscription("acl-sidecar") : RedisSchema.limit(counter), args);
    }

    /** The budget function called on a key of the caller's choosing. */
    static Future<io.vertx.redis.client.Response> fcallOn(RedisAPI api, String key, String... args) {
        List<String> fcall = new ArrayList<>(List.of(RedisFunctions.TOKEN_LIMIT, "1", key));
        fcall.addAll(List.of(args));
        return api.fcall(fcall);
    }

    /** The function itself refused the call: an error reply naming it, nothing written. */
    static void rejected(String what, Future<?> call) {
        try {
            Object result = await(call);
            fail(what + " was accepted: " + result);
        } catch (Exception e) {
            assertTrue(String.valueOf(e.getMessage()).contains(RedisFunctions.TOKEN_LIMIT), what + ": " + e);
        }
    }

    /** A Redis without the library: the budget says in one sentence what to run, and the one command mends it. */
    @Test
    void aRedisWithoutTheFunctionsSaysWhatToRun() throws Exception {
        try (LocalRedis bare = new LocalRedis(LocalRedis.freePort()).start()) {
            RedisAPI root = RedisAPI.api(Redis.createClient(vertx, bare.url()));
            await(root.function(List.of("DELETE", RedisFunctions.LIBRARY)));
            ExecutionException missing = org.junit.jupiter.api.Assertions.assertThrows(
                    ExecutionException.class,
                    () -> RedisTokenBudgetAccess.admitAndSettle(
                            Redis.createClient(vertx, bare.url()), 1000, 0, QuotaPeriod.DAILY));
            assertInstanceOf(RedisFunctions.NotInstalled.class, missing.getCause());
            assertTrue(
                    missing.getCause().getMessage().contains("run `aigate keys install-functions`"),
                    missing.getCause()::getMessage);
            Keys.Run installed = Keys.okText(bare.url(), "install-functions");
            assertTrue(installed.out().contains("(+hmget +hset +pexpire ~aigate:v1:limit:*:"), installed.out());
            assertTrue(installed.out().contains("version " + RedisFunctions.VERSION), installed.out());
            assertEquals(
                    "ADMITTED",
                    RedisTokenBudgetAccess.admitAndSettle(
                            Redis.createClient(vertx, bare.url()), 1000, 0, QuotaPeriod.DAILY));
        }
    }

    @Test
    void aSubscriptionRedisRefusesIsNeverTakenForOne() throws Exception {
        // a sidecar user whose rules lack the invalidation channel (or any other channel: none is allowed)
        RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        List<String> args = new ArrayList<>(List.of("SETUSER", "aigate-deaf", "on", ">deaf-secret"));
        args.addAll(List.of(
                sidecarRule().replace("&aigate:v1:invalidate", "").trim().split("\\s+")));
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
        // no budgets on Redis 6: the budget says, in one sentence, what the user lacks (the fallback then decides)
        ExecutionException noBudget = org.junit.jupiter.api.Assertions.assertThrows(
                ExecutionException.class,
                () -> RedisTokenBudgetAccess.admitAndSettle(six, 1000, 100_000, QuotaPeriod.DAILY));
        assertInstanceOf(RedisFunctions.NotInstalled.class, noBudget.getCause());
        assertTrue(
                noBudget.getCause().getMessage().contains("deploy/redis/sidecar.acl"), noBudget.getCause()::getMessage);
        RedisAPI api = RedisAPI.api(six);
        refused("EVAL", api.eval(List.of("return 1", "0")));
        refused("a budget", api.hset(List.of(RedisSchema.limitRate("s:acl-six", budgetSecret), "l", "0")));
        refused("writing a subscription", api.hset(List.of(RedisSchema.subscription("acl-six"), "state", "active")));
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
