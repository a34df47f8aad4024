package io.aigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Keys;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The key-admin CLI end to end against a real Redis, as an operator uses it. */
class KeysCliTest {

    static LocalRedis redis;

    @BeforeAll
    static void start() {
        redis = new LocalRedis(LocalRedis.freePort()).start();
    }

    @AfterAll
    static void stop() {
        redis.close();
    }

    @Test
    void createPrintsTwoKeysOnceAndNothingElseEverShowsThem() {
        Keys.Run created = Keys.okText(
                redis.url(),
                "create",
                "--name",
                "team-a",
                "--id",
                "team-a",
                "--scope",
                "deployments:gpt-4o,gpt-4o-mini",
                "--allowed-client-apps",
                "app-1,app-2",
                "--expires-in",
                "90d");
        String primary = created.key("Primary");
        String secondary = created.key("Secondary");
        assertNotEquals(primary, secondary);
        assertTrue(created.out().contains("shown once"));

        Keys.Run shown = Keys.okText(redis.url(), "show", "team-a");
        assertTrue(shown.out().contains("deployments:gpt-4o,gpt-4o-mini"), shown.out());
        assertTrue(shown.out().contains("app-1") && shown.out().contains("active"), shown.out());
        Keys.Run listed = Keys.okText(redis.url(), "list");
        assertTrue(listed.out().contains("team-a"), listed.out());
        for (Keys.Run run : new Keys.Run[] {shown, listed}) {
            assertFalse(run.out().contains("aig_"), "no key material outside create/rotate: " + run.out());
        }
    }

    @Test
    void listExpiringWithinShowsOnlyWhatExpiresSoon() {
        Keys.okText(redis.url(), "create", "--name", "soon", "--id", "soon", "--expires-in", "3d");
        Keys.okText(
                redis.url(),
                "create",
                "--name",
                "later",
                "--id",
                "later",
                "--expires-at",
                Instant.now().plus(200, ChronoUnit.DAYS).toString());
        Keys.okText(redis.url(), "create", "--name", "never", "--id", "never");
        String out =
                Keys.okText(redis.url(), "list", "--expiring-within", "14d").out();
        assertTrue(out.contains("soon"), out);
        assertFalse(out.contains("later") || out.contains("never "), out);
    }

    @Test
    void everyLifecycleCommandWorksAndUnknownIdsExitWith3() {
        Keys.Run created = Keys.okText(redis.url(), "create", "--name", "life");
        String id = created.id();
        assertTrue(Keys.okText(redis.url(), "suspend", id).out().contains("suspended"));
        assertTrue(Keys.okText(redis.url(), "show", id).out().contains("suspended"));
        Keys.okText(redis.url(), "activate", id);
        String rotated =
                Keys.okText(redis.url(), "rotate", id, "--which", "secondary").key("New secondary");
        assertNotEquals(created.key("Secondary"), rotated);
        Keys.okText(redis.url(), "revoke", id);
        assertTrue(Keys.okText(redis.url(), "show", id).out().contains("cancelled"));
        Keys.okText(redis.url(), "delete", id);

        Keys.Run missing = Keys.text(redis.url(), "show", id);
        assertEquals(3, missing.exit());
        assertEquals("no subscription '" + id + "'", missing.err().trim());
        assertEquals(3, Keys.text(redis.url(), "suspend", "nobody").exit());
    }

    @Test
    void badArgumentsExitWith2AndSayWhy() {
        Keys.Run noName = Keys.text(redis.url(), "create");
        assertEquals(2, noName.exit());
        assertTrue(noName.err().contains("--name"), noName.err());
        Keys.Run badScope = Keys.text(redis.url(), "create", "--name", "x", "--scope", "everything");
        assertEquals(2, badScope.exit());
        assertTrue(badScope.err().contains("scope"), badScope.err());
        assertEquals(
                2, Keys.text(redis.url(), "rotate", "x", "--which", "tertiary").exit());
        assertEquals(
                2,
                Keys.text(redis.url(), "create", "--name", "x", "--id", "Bad{Id}")
                        .exit());
        assertEquals(
                2, Keys.text(redis.url(), "list", "--expiring-within", "soon").exit());
        assertEquals(2, Keys.text(redis.url(), "frobnicate").exit());
    }

    @Test
    void tokenLimitsAreSetShownAndClearedPerSubscription() {
        Keys.Run created = Keys.okText(redis.url(), "create", "--name", "metered", "--tokens-per-minute", "20000");
        String id = created.id();
        assertTrue(Keys.okText(redis.url(), "show", id)
                .out()
                .contains("token limits:        20000 tokens/minute, " + "default quota"));
        Keys.Run set =
                Keys.okText(redis.url(), "limits", id, "--token-quota", "5000000", "--token-quota-period", "monthly");
        assertTrue(set.out().contains("20000 tokens/minute, 5000000 tokens monthly"), set.out());
        assertTrue(Keys.okText(redis.url(), "show", id).out().contains("5000000 tokens monthly"));
        assertTrue(Keys.okText(redis.url(), "limits", id, "--clear").out().contains("defaults"));
        assertTrue(Keys.okText(redis.url(), "show", id).out().contains("token limits:        defaults"));

        Keys.Run noPeriod = Keys.text(redis.url(), "limits", id, "--token-quota", "10");
        assertEquals(2, noPeriod.exit());
        assertTrue(noPeriod.err().contains("--token-quota needs --token-quota-period"), noPeriod.err());
        assertEquals(
                2,
                Keys.text(redis.url(), "limits", id, "--token-quota-period", "Fortnightly")
                        .exit());
        assertEquals(
                2,
                Keys.text(redis.url(), "limits", id, "--tokens-per-minute", "-5")
                        .exit());
        assertEquals(2, Keys.text(redis.url(), "limits", id).exit());
        assertEquals(
                3,
                Keys.text(redis.url(), "limits", "no-such-id", "--tokens-per-minute", "5")
                        .exit());
    }

    @Test
    void anUnreachableRedisExitsWith1WithoutEchoingThePassword() {
        int closed = LocalRedis.freePort();
        Keys.Run run = Keys.text("redis://:hunter2-secret@127.0.0.1:" + closed, "--timeout", "2", "list");
        assertEquals(1, run.exit());
        assertTrue(run.err().startsWith("cannot reach Redis at redis://127.0.0.1:" + closed), run.err());
        assertFalse(run.err().contains("hunter2"), run.err());
    }

    @Test
    void scriptsReadOneJsonDocumentAndExitCodesMeanOneThingEach() {
        Keys.Run created = Keys.ok(
                redis.url(), "create", "--name", "json-team", "--id", "json-team", "--tokens-per-minute", "1000");
        io.vertx.core.json.JsonObject document = created.json();
        assertEquals("json-team", document.getString("id"));
        assertEquals("active", document.getString("state"));
        assertEquals(1000L, document.getJsonObject("limits").getLong("tokensPerMinute"));
        assertTrue(document.getString("primaryKey").startsWith("aig_"));
        assertNotEquals(document.getString("primaryKey"), document.getString("secondaryKey"));

        io.vertx.core.json.JsonArray listed =
                new io.vertx.core.json.JsonArray(Keys.ok(redis.url(), "list").out());
        assertTrue(listed.stream()
                .anyMatch(o -> "json-team".equals(((io.vertx.core.json.JsonObject) o).getString("id"))));
        assertFalse(listed.encode().contains("aig_"), "no key material in a listing");
        assertEquals(
                "secondary",
                Keys.ok(redis.url(), "rotate", "json-team", "--which", "secondary")
                        .json()
                        .getString("slot"));

        // failures: one JSON object on stderr, and the exit code says which kind
        Keys.Run again = Keys.cli(redis.url(), "create", "--name", "twin", "--id", "json-team");
        assertEquals(ExitCode.REFUSED.code, again.exit());
        assertEquals(ExitCode.REFUSED.code, new io.vertx.core.json.JsonObject(again.err()).getInteger("exit"));
        assertTrue(again.out().isEmpty(), "nothing on stdout, no key printed");
        assertEquals(
                ExitCode.NOT_FOUND.code, Keys.cli(redis.url(), "show", "nobody").exit());
        Keys.Run usage = Keys.cli(redis.url(), "rotate", "json-team", "--which", "third");
        assertEquals(ExitCode.USAGE.code, usage.exit());
        assertEquals(ExitCode.USAGE.code, new io.vertx.core.json.JsonObject(usage.err()).getInteger("exit"));
        Keys.ok(redis.url(), "revoke", "json-team");
        assertEquals(
                ExitCode.REFUSED.code,
                Keys.cli(redis.url(), "activate", "json-team").exit());
    }
}
