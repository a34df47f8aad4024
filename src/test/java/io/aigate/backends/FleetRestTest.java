package io.aigate.backends;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.redis.RedisChannels;
import io.aigate.redis.RedisSchema;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.TestClock;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.http.HttpHeaders;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Sidecars on one real Redis: a 429 that rests a deployment for the first rests that deployment (and no other on the
 * same resource) for the second, which then sends its requests elsewhere without ever having been refused; what comes
 * over the channel is a hint from a peer that may be hostile: checked, bounded, counted, and never able to keep a
 * deployment resting.
 */
class FleetRestTest extends WithRealRedis {

    static final String PTU = "https://ptu.openai.azure.com";
    static final String GPT = "gpt-4o";
    static final String MINI = "gpt-4o-mini";

    static final Map<String, String> CONFIG = Map.of(
            "aigate.backends.ptu.url", PTU + "/",
            "aigate.backends.ptu.credential", "none",
            "aigate.backends.east.url", "https://east.openai.azure.com",
            "aigate.backends.east.credential", "none",
            "aigate.pools.chat.members.ptu.priority", "1",
            "aigate.pools.chat.members.east.priority", "2",
            "aigate.routes.chat.deployments", GPT + "," + MINI,
            "aigate.routes.chat.backend", "chat");

    /** One sidecar's pools, listening on the fleet's channel, on a clock the test moves. */
    record Sidecar(BackendPools pools, FleetRest fleet, SimpleMeterRegistry registry, TestClock clock) {
        Member member(String name, String deployment) {
            return pools.get("chat").members(deployment).stream()
                    .filter(m -> m.backend().equals(name))
                    .findFirst()
                    .orElseThrow();
        }

        CircuitBreaker.State state(String name, String deployment) {
            return member(name, deployment).breaker().state(pools.now());
        }

        /** Which backend the pool picks for a deployment now (taking it, as its probe if it was resting). */
        String picks(String deployment) {
            BackendPool pool = pools.get("chat");
            int index = pool.pick(0, deployment, pools.now());
            return index < 0 ? null : pool.member(index, deployment).backend();
        }

        double trips(String why) {
            var counter = registry.find("aigate.backend.trips").tag("why", why).counter();
            return counter == null ? 0 : counter.count();
        }

        double heard(String outcome) {
            return registry.find("aigate.backend.fleet.messages")
                    .tag("outcome", outcome)
                    .counter()
                    .count();
        }

        double heardAll() {
            return heard("rested") + heard("limited") + heard("ignored") + heard("malformed");
        }
    }

    static Sidecar sidecar() throws Exception {
        return sidecar(Map.of());
    }

    static Sidecar sidecar(Map<String, String> settings) throws Exception {
        Map<String, String> all = new HashMap<>(CONFIG);
        all.putAll(settings);
        AigateConfig config = Configs.aigate(all);
        TestClock clock = TestClock.at(Instant.now());
        Redis client = Redis.createClient(vertx, redis.url());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BackendMetrics metrics = new BackendMetrics(registry);
        FleetRest fleet = new FleetRest(client, config, clock, metrics);
        BackendPools pools = new BackendPools(config, clock, metrics, fleet);
        RedisChannels.start(vertx, client, config.subscriptionKey(), List.of(fleet));
        Await.until("fleet channel subscribed", Duration.ofSeconds(5), fleet::listening);
        return new Sidecar(pools, fleet, registry, clock);
    }

    @Test
    void aDeploymentThrottledForOneSidecarRestsForTheOtherAndNoOtherDeploymentOnTheResourceDoes() throws Exception {
        Sidecar first = sidecar();
        Sidecar second = sidecar();
        assertEquals("ptu", second.picks(GPT), "the PTU serves first");
        assertEquals("ptu", first.picks(MINI), "both deployments have been served by the PTU here");
        second.pools().answered(second.member("ptu", MINI), 200, HttpHeaders.headers());

        first.pools()
                .answered(first.member("ptu", GPT), 429, HttpHeaders.headers().add("Retry-After", "30"));
        assertEquals(CircuitBreaker.State.OPEN, first.state("ptu", GPT));
        assertEquals(CircuitBreaker.State.CLOSED, first.state("ptu", MINI), "one deployment's 429 rests only it");
        assertEquals("ptu", first.picks(MINI));
        Await.until(
                "the second sidecar rests the PTU's gpt-4o",
                Duration.ofSeconds(5),
                () -> second.state("ptu", GPT) == CircuitBreaker.State.OPEN);
        assertEquals("east", second.picks(GPT), "it sends gpt-4o to east at once");
        assertEquals("ptu", second.picks(MINI), "and gpt-4o-mini to the PTU still");
        assertEquals(CircuitBreaker.State.CLOSED, second.state("ptu", MINI));
        long restLeft =
                second.member("ptu", GPT).breaker().restUntil() - second.clock().millis();
        assertTrue(restLeft > 28_000 && restLeft <= 30_000, "as long as the 429 said: " + restLeft);
        assertEquals(1, second.trips("fleet"));
        assertEquals(1, second.heard("rested"));

        Thread.sleep(200); // the first sidecar heard its own message too, and ignored it without counting it
        assertEquals(1, first.trips("throttled"));
        assertEquals(0, first.trips("fleet"));
        assertEquals(0, first.heardAll());
    }

    @Test
    void whatComesOverTheChannelIsCheckedBoundedAndCounted() throws Exception {
        Sidecar sidecar = sidecar();
        sidecar.picks(GPT);
        Redis publisher = Redis.createClient(vertx, redis.url());
        long now = sidecar.clock().millis();
        String peer = UUID.randomUUID().toString();
        String[] hostile = {
            peer + " " + now + " -5 " + GPT + " " + PTU,
            peer + " " + now + " 1.5 " + GPT + " " + PTU,
            peer + " " + now + " 99999999999999999999 " + GPT + " " + PTU,
            peer + " " + now + " 0 " + GPT + " " + PTU,
            peer + " " + now + " 86400001 " + GPT + " " + PTU, // over a day: a lie, not a wait
            peer + " " + (now + 60_000) + " 1000 " + GPT + " " + PTU, // sent a minute from now
            peer + " -" + now + " 1000 " + GPT + " " + PTU,
            "not-a-uuid " + now + " 1000 " + GPT + " " + PTU,
            peer + " " + now + " 1000 gpt-4o. " + PTU, // no deployment name a route could have
            peer + " " + now + " 1000 " + GPT + " ftp://ptu",
            peer + " " + now + " 1000 " + GPT + " " + PTU + " extra",
            peer + " " + now + " 1000 " + PTU, // the format before deployments
            "garbage",
            peer + " " + now + " 1000 " + GPT + " " + PTU + "x".repeat(3000),
        };
        for (String message : hostile) {
            publish(publisher, message);
        }
        String[] harmless = {
            peer + " " + (now - 10_000) + " 5000 " + GPT + " " + PTU, // its rest is over already
            peer + " " + now + " 1000 " + GPT + " https://some-other.openai.azure.com",
            peer + " " + now + " 1000 never-served " + PTU, // a deployment this sidecar has not served
        };
        for (String message : harmless) {
            publish(publisher, message);
        }
        publish(publisher, peer + " " + now + " 86400000 " + GPT + " " + PTU); // a day: cut to max-trip-duration
        Await.until(
                "every message is heard",
                Duration.ofSeconds(5),
                () -> sidecar.heardAll() == hostile.length + harmless.length + 1);
        assertEquals(hostile.length, sidecar.heard("malformed"));
        assertEquals(harmless.length, sidecar.heard("ignored"));
        assertEquals(1, sidecar.heard("rested"));
        assertEquals(CircuitBreaker.State.OPEN, sidecar.state("ptu", GPT));
        long restLeft = sidecar.member("ptu", GPT).breaker().restUntil()
                - sidecar.clock().millis();
        assertEquals(300_000, restLeft, "bounded by max-trip-duration");
        assertEquals(CircuitBreaker.State.CLOSED, sidecar.state("east", GPT));
        assertEquals("ptu", sidecar.picks("never-served"), "a message never rests, or makes, a deployment's breaker");
    }

    @Test
    void aFloodOnTheChannelRestsADeploymentOncePerIntervalEndedByOneProbeAndTheSubscriberStaysUp() throws Exception {
        Sidecar sidecar = sidecar(Map.of(
                "aigate.backends.ptu.circuit-breaker.trip-duration", "1s",
                "aigate.backends.ptu.circuit-breaker.max-trip-duration", "2s",
                "aigate.backends.ptu.circuit-breaker.fleet-rest-interval", "10s"));
        assertEquals("ptu", sidecar.picks(GPT));
        sidecar.pools().answered(sidecar.member("ptu", GPT), 200, HttpHeaders.headers());
        Flood flood = new Flood(sidecar);

        flood.send(5_000);
        assertEquals(CircuitBreaker.State.OPEN, sidecar.state("ptu", GPT), "the first message rests it");
        assertEquals(1, sidecar.heard("rested"), "once: the rest of the flood neither extends nor renews it");
        assertEquals(
                2_000,
                sidecar.member("ptu", GPT).breaker().restUntil()
                        - sidecar.clock().millis());

        sidecar.clock().advance(Duration.ofMillis(2_000));
        flood.send(5_000);
        assertEquals(CircuitBreaker.State.HALF_OPEN, sidecar.state("ptu", GPT), "its rest ends, flood or not");
        assertEquals("ptu", sidecar.picks(GPT), "one probe goes");
        assertEquals("east", sidecar.picks(GPT), "and only one");
        sidecar.pools().answered(sidecar.member("ptu", GPT), 200, HttpHeaders.headers());
        flood.send(5_000);
        assertEquals(CircuitBreaker.State.CLOSED, sidecar.state("ptu", GPT), "the flood cannot rest it again");
        assertEquals("ptu", sidecar.picks(GPT));
        assertTrue(sidecar.heard("limited") >= 5_000, "refused as limited: " + sidecar.heard("limited"));

        sidecar.clock().advance(Duration.ofSeconds(10));
        flood.send(5_000);
        assertEquals(2, sidecar.heard("rested"), "a fleet rest again only once the interval is over");
        assertEquals(flood.sent, sidecar.heardAll(), "every message was heard: the subscriber was never dropped");
        assertTrue(sidecar.fleet().listening());
    }

    /** Valid rests from ever new senders, published in a tight loop by a second client, stamped with the test's time. */
    static final class Flood {
        final Sidecar sidecar;
        final RedisConnection publisher;
        long sent;

        Flood(Sidecar sidecar) throws Exception {
            this.sidecar = sidecar;
            // one connection, pipelined: as fast as one client can publish
            this.publisher = Redis.createClient(vertx, redis.url())
                    .connect()
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
        }

        /** Publishes {@code n} rests and waits until the sidecar heard every one sent so far. */
        void send(int n) throws Exception {
            for (int batch = 0; batch < n; batch += 500) {
                List<io.vertx.core.Future<?>> sending = new java.util.ArrayList<>();
                for (int i = batch; i < Math.min(n, batch + 500); i++) {
                    sending.add(publisher.send(Request.cmd(Command.PUBLISH)
                            .arg(RedisSchema.BACKEND_REST_CHANNEL)
                            .arg(RedisSchema.backendRest(
                                    UUID.randomUUID().toString(),
                                    sidecar.clock().millis(),
                                    2_000,
                                    GPT,
                                    PTU))));
                }
                io.vertx.core.Future.all(sending)
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
            }
            sent += n;
            Await.until("the flood is heard", Duration.ofSeconds(20), () -> sidecar.heardAll() >= sent);
        }
    }

    static void publish(Redis client, String payload) throws Exception {
        client.send(Request.cmd(Command.PUBLISH)
                        .arg(RedisSchema.BACKEND_REST_CHANNEL)
                        .arg(payload))
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }
}
