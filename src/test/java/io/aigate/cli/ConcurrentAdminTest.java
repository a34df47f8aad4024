package io.aigate.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionKeys;
import io.aigate.subscription.SubscriptionStore;
import io.aigate.testing.FaultyLink;
import io.aigate.testing.Keys;
import io.aigate.testing.WithRealRedis;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two admins (or two scripts) changing one subscription at once, against the real Redis. The first command's read is
 * held on the wire until the second has finished, so the race happens every time rather than once in a while: no
 * change may be lost, no revocation undone, no subscription created twice.
 */
class ConcurrentAdminTest extends WithRealRedis {

    static SubscriptionStore store;
    FaultyLink slow;

    @BeforeAll
    static void start() {
        store = new SubscriptionStore(Redis.createClient(vertx, redis.url()), 5000);
    }

    @BeforeEach
    void wire() {
        slow = new FaultyLink(() -> redis.port());
    }

    @AfterEach
    void unwire() {
        slow.close();
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /**
     * Runs {@code first} through the slow link with its read of subscription {@code id} held, runs {@code second}
     * directly while it waits, then lets the first go on.
     */
    Keys.Run[] race(String id, String[] first, String[] second) throws Exception {
        slow.holdAnswerTo("HGETALL", id);
        CompletableFuture<Keys.Run> held = CompletableFuture.supplyAsync(() -> Keys.cli(slow.url(), first));
        boolean wasHeld = slow.awaitHeld(3000); // a command that never reads first simply runs to its end
        Keys.Run other = Keys.cli(redis.url(), second);
        slow.release();
        Keys.Run late = held.get(20, TimeUnit.SECONDS);
        assertTrue(wasHeld || late.exit() != 0 || other.exit() != 0, "the two commands overlapped or one lost");
        return new Keys.Run[] {late, other};
    }

    boolean opens(String key, String id) throws Exception {
        SubscriptionStore.Found found = await(store.lookup(SubscriptionKeys.hash(key)));
        return found != null && found.subscription().id().equals(id);
    }

    @Test
    void rotatingBothKeysAtOnceKeepsBothNewKeys() throws Exception {
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "both", "--id", "both");
        Keys.Run[] runs = race("both", new String[] {"rotate", "both", "--which", "primary"}, new String[] {
            "rotate", "both", "--which", "secondary"
        });
        assertEquals(0, runs[0].exit(), runs[0].err());
        assertEquals(0, runs[1].exit(), runs[1].err());
        assertTrue(opens(runs[0].key("New primary"), "both"), "the new primary key works");
        assertTrue(opens(runs[1].key("New secondary"), "both"), "the new secondary key works");
        assertTrue(
                !opens(created.key("Primary"), "both") && !opens(created.key("Secondary"), "both"),
                "both old keys are dead");
    }

    @Test
    void rotatingOneKeyTwiceAtOnceLeavesExactlyOneWorkingKeyAndSaysSo() throws Exception {
        Keys.ok(redis.url(), "create", "--name", "twice", "--id", "twice");
        Keys.Run[] runs = race("twice", new String[] {"rotate", "twice", "--which", "primary"}, new String[] {
            "rotate", "twice", "--which", "primary"
        });
        assertEquals(0, runs[1].exit(), runs[1].err());
        assertEquals(ExitCode.CONFLICT.code, runs[0].exit(), runs[0].out() + runs[0].err());
        assertTrue(runs[0].err().contains("rotated meanwhile"), runs[0].err());
        assertTrue(!runs[0].out().contains("aig_"), "a key that does not work is never printed");
        assertTrue(opens(runs[1].key("New primary"), "twice"));
    }

    @Test
    void aSuspensionIsNeverUndoneByAConcurrentLimitsChange() throws Exception {
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "limits", "--id", "limits");
        Keys.Run[] runs =
                race("limits", new String[] {"limits", "limits", "--tokens-per-minute", "5000"}, new String[] {
                    "suspend", "limits"
                });
        assertEquals(0, runs[0].exit(), runs[0].err());
        assertEquals(0, runs[1].exit(), runs[1].err());
        Subscription now = await(store.get("limits"));
        assertEquals(Subscription.State.SUSPENDED, now.state(), "the suspension stands");
        assertEquals(5000L, now.limits().tokensPerMinute(), "and so does the new limit");
        assertTrue(opens(created.key("Primary"), "limits"), "the key still names its (suspended) subscription");
    }

    @Test
    void aRevocationIsNeverUndoneByAConcurrentRotation() throws Exception {
        Keys.ok(redis.url(), "create", "--name", "revoked", "--id", "revoked");
        Keys.Run[] runs = race(
                "revoked", new String[] {"rotate", "revoked", "--which", "primary"}, new String[] {"revoke", "revoked"
                });
        assertEquals(0, runs[1].exit(), runs[1].err());
        assertTrue(runs[0].exit() != 0, "rotating a revoked subscription fails: " + runs[0].out());
        assertTrue(!runs[0].out().contains("aig_"), "no key is printed: " + runs[0].out());
        assertEquals(Subscription.State.CANCELLED, await(store.get("revoked")).state());
    }

    @Test
    void oneIdIsCreatedOnceWhoeverAsks() throws Exception {
        Keys.Run[] runs = race("twin", new String[] {"create", "--name", "first", "--id", "twin"}, new String[] {
            "create", "--name", "second", "--id", "twin"
        });
        assertEquals(
                1,
                (runs[0].exit() == 0 ? 1 : 0) + (runs[1].exit() == 0 ? 1 : 0),
                "exactly one create succeeds: " + runs[0].err() + runs[1].err());
        Keys.Run winner = runs[0].exit() == 0 ? runs[0] : runs[1];
        Keys.Run loser = runs[0].exit() == 0 ? runs[1] : runs[0];
        assertTrue(loser.err().contains("already exists"), loser.err());
        assertTrue(!loser.out().contains("aig_"), "the loser prints no key");
        assertTrue(
                opens(winner.key("Primary"), "twin") && opens(winner.key("Secondary"), "twin"),
                "the winner's keys are the ones that work");
        Subscription twin = await(store.get("twin"));
        assertNotNull(twin);
        assertEquals(winner == runs[0] ? "first" : "second", twin.name());
    }

    @Test
    void deletingWhileRotatingLeavesNoKeyThatOpensAnything() throws Exception {
        Keys.ok(redis.url(), "create", "--name", "gone", "--id", "gone");
        Keys.Run[] runs =
                race("gone", new String[] {"rotate", "gone", "--which", "secondary"}, new String[] {"delete", "gone"});
        assertEquals(0, runs[1].exit(), runs[1].err());
        assertEquals(ExitCode.NOT_FOUND.code, runs[0].exit(), runs[0].out() + runs[0].err());
        assertNull(await(store.get("gone")));
        assertTrue(await(store.list()).stream().noneMatch(s -> s.id().equals("gone")));
    }
}
