package io.aigate.subscription;

import static io.aigate.subscription.InvalidationTest.awaitSubscribed;
import static io.aigate.subscription.InvalidationTest.instance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.Await;
import io.aigate.testing.FaultyLink;
import io.aigate.testing.Keys;
import io.aigate.testing.WithRealRedis;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Revocation against the races a fleet meets: an answer read before a revocation and delivered after it, an
 * invalidation channel dropped without a word, and invented keys crowding real ones out of the cache. Each instance
 * talks to the real Redis through a {@link FaultyLink}; the CLI talks to Redis directly, as an operator's would.
 */
class RevocationRaceTest extends WithRealRedis {

    FaultyLink link;

    @BeforeEach
    void wire() {
        link = new FaultyLink(() -> redis.port());
    }

    @AfterEach
    void unwire() {
        link.close();
    }

    static SubscriptionLookup.Answer await(Future<SubscriptionLookup.Answer> answer) throws Exception {
        return answer.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static Subscription.State state(SubscriptionLookup.Answer answer) {
        return answer instanceof SubscriptionLookup.Known known
                ? known.found().subscription().state()
                : null;
    }

    @Test
    void anAnswerReadBeforeARevocationIsNeverCachedOrSharedAfterIt() throws Exception {
        // a held answer must not turn into a timeout before the test releases it
        SubscriptionLookup lookup = instance(vertx, link.url(), Map.of("aigate.subscription-key.redis-timeout", "5s"));
        awaitSubscribed(lookup);
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "race");
        String hash = SubscriptionKeys.hash(created.key("Primary"));

        // Redis answers the lookup while the subscription is still active; the answer is held on the wire
        link.holdAnswerTo("HGETALL", created.id());
        Future<SubscriptionLookup.Answer> before = lookup.find(hash);
        assertTrue(link.awaitHeld(5000), "the lookup reached Redis");
        long generation = lookup.generation();
        Keys.ok(redis.url(), "suspend", created.id());
        // the invalidation is delivered (on a connection that is not held) and handled
        Await.until("the suspension handled", Duration.ofSeconds(5), () -> lookup.generation() > generation);
        Future<SubscriptionLookup.Answer> after = lookup.find(hash);
        link.release();

        assertEquals(Subscription.State.ACTIVE, state(await(before)), "read before the suspension");
        assertEquals(
                Subscription.State.SUSPENDED,
                state(await(after)),
                "a request that arrives after the invalidation does not join a lookup that started before it");
        assertEquals(
                Subscription.State.SUSPENDED,
                state(await(lookup.find(hash))),
                "the answer read before the suspension was not cached");
    }

    @Test
    void aSilentlyDroppedChannelIsNoticedReconnectedAndItsKeysReChecked() throws Exception {
        SubscriptionLookup lookup = instance(
                vertx,
                link.url(),
                Map.of(
                        "aigate.subscription-key.invalidation-keepalive", "300ms",
                        "aigate.subscription-key.redis-timeout", "500ms"));
        awaitSubscribed(lookup);
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "dropped");
        String hash = SubscriptionKeys.hash(created.key("Primary"));
        assertEquals(Subscription.State.ACTIVE, state(await(lookup.find(hash))));
        // time must pass here: five keepalives, answered, keep the channel and the cache as they are
        Thread.sleep(1500);
        assertTrue(lookup.storeUp() && lookup.state().endsWith(" 1 keys cached"), lookup.state());

        assertEquals(1, link.silence("SUBSCRIBE"), "the invalidation channel's connection goes silent");
        Keys.ok(redis.url(), "suspend", created.id()); // published into the void

        Await.until(
                "a suspension published while the channel was silently dropped is seen once it is noticed",
                Duration.ofSeconds(5),
                () -> state(await(lookup.find(hash))) == Subscription.State.SUSPENDED);
        assertTrue(lookup.storeUp(), "subscribed again: " + lookup.state());
    }

    @Test
    void inventedKeysNeverCrowdARealKeyOutOfItsOutageGrace() throws Exception {
        SubscriptionLookup lookup = instance(
                vertx,
                link.url(),
                Map.of(
                        "aigate.subscription-key.cache-max-entries", "20",
                        "aigate.subscription-key.negative-cache-ttl", "10m",
                        "aigate.subscription-key.redis-timeout", "500ms"));
        awaitSubscribed(lookup);
        String real = SubscriptionKeys.hash(
                Keys.ok(redis.url(), "create", "--name", "real").key("Primary"));
        assertInstanceOf(SubscriptionLookup.Known.class, await(lookup.find(real)));
        assertInstanceOf(SubscriptionLookup.Known.class, await(lookup.find(real)));

        // well-formed keys anyone can make (the checksum is no secret), each sent often enough to look popular
        for (int i = 0; i < 200; i++) {
            String invented = SubscriptionKeys.hash(SubscriptionKeys.generate());
            for (int j = 0; j < 8; j++) {
                assertInstanceOf(SubscriptionLookup.Unknown.class, await(lookup.find(invented)));
            }
        }

        link.cut(); // Redis is gone
        assertInstanceOf(
                SubscriptionLookup.Known.class,
                await(lookup.find(real)),
                "a key Redis confirmed keeps working through the outage grace");
    }
}
