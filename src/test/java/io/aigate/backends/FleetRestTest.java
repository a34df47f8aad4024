package io.aigate.backends;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.redis.RedisChannels;
import io.aigate.redis.RedisSchema;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.http.HttpHeaders;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two sidecars on one real Redis: a 429 that rests a backend for the first rests it for the second, which then sends
 * its requests elsewhere without ever having been refused; what comes over the channel is bounded and checked.
 */
class FleetRestTest extends WithRealRedis {

    static final String PTU = "https://ptu.openai.azure.com";

    static final Map<String, String> CONFIG = Map.of(
            "aigate.backends.ptu.url", PTU + "/",
            "aigate.backends.ptu.credential", "none",
            "aigate.backends.east.url", "https://east.openai.azure.com",
            "aigate.backends.east.credential", "none",
            "aigate.pools.chat.members.ptu.priority", "1",
            "aigate.pools.chat.members.east.priority", "2",
            "aigate.routes.chat.deployments", "gpt-4o",
            "aigate.routes.chat.backend", "chat");

    /** One sidecar's pools, listening on the fleet's channel. */
    record Sidecar(BackendPools pools, FleetRest fleet, SimpleMeterRegistry registry) {
        Member member(String name) {
            return pools.get("chat").members().stream()
                    .filter(m -> m.backend().equals(name))
                    .findFirst()
                    .orElseThrow();
        }

        CircuitBreaker.State state(String name) {
            return member(name).breaker().state(pools.now());
        }

        double trips(String why) {
            var counter = registry.find("aigate.backend.trips").tag("why", why).counter();
            return counter == null ? 0 : counter.count();
        }
    }

    static Sidecar sidecar() throws Exception {
        AigateConfig config = Configs.aigate(CONFIG);
        Redis client = Redis.createClient(vertx, redis.url());
        FleetRest fleet = new FleetRest(client, config);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        BackendPools pools = new BackendPools(config, Clock.systemUTC(), registry, fleet);
        RedisChannels.start(vertx, client, config, List.of(fleet));
        Await.until("fleet channel subscribed", Duration.ofSeconds(5), fleet::listening);
        return new Sidecar(pools, fleet, registry);
    }

    @Test
    void aBackendThrottledForOneSidecarRestsForTheOtherWhichSendsItsRequestsElsewhere() throws Exception {
        Sidecar first = sidecar();
        Sidecar second = sidecar();
        assertEquals(0, second.pools().get("chat").pick(0, second.pools().now()), "the PTU serves first");

        first.pools().answered(first.member("ptu"), 429, HttpHeaders.headers().add("Retry-After", "30"));
        assertEquals(CircuitBreaker.State.OPEN, first.state("ptu"));
        Await.until(
                "the second sidecar rests the PTU",
                Duration.ofSeconds(5),
                () -> second.state("ptu") == CircuitBreaker.State.OPEN);
        BackendPool pool = second.pools().get("chat");
        assertEquals("east", pool.member(pool.pick(0, second.pools().now())).backend(), "it goes to east at once");
        long restLeft = second.member("ptu").breaker().restUntil() - System.currentTimeMillis();
        assertTrue(restLeft > 28_000 && restLeft <= 30_000, "as long as the 429 said: " + restLeft);
        assertEquals(1, second.trips("fleet"));

        Thread.sleep(200); // the first sidecar heard its own message too, and ignored it
        assertEquals(1, first.trips("throttled"));
        assertEquals(0, first.trips("fleet"));
    }

    @Test
    void whatComesOverTheChannelIsBoundedAndMalformedMessagesAreDropped() throws Exception {
        Sidecar sidecar = sidecar();
        Redis publisher = Redis.createClient(vertx, redis.url());
        for (String hostile : new String[] {
            "x -5 " + PTU,
            "x 1.5 " + PTU,
            "x 99999999999999999999 " + PTU,
            "x 0 " + PTU,
            "x 1000",
            "garbage",
            "x 1000 https://some-other.openai.azure.com",
        }) {
            publish(publisher, hostile);
        }
        publish(publisher, "x 86400000 " + PTU); // a day: cut to max-trip-duration (5 minutes)
        Await.until(
                "the last message is heard",
                Duration.ofSeconds(5),
                () -> sidecar.state("ptu") == CircuitBreaker.State.OPEN);
        assertEquals(1, sidecar.trips("fleet"), "only the last message was one to act on");
        long restLeft = sidecar.member("ptu").breaker().restUntil() - System.currentTimeMillis();
        assertTrue(restLeft > 290_000 && restLeft <= 300_000, "bounded by max-trip-duration: " + restLeft);
        assertEquals(CircuitBreaker.State.CLOSED, sidecar.state("east"));
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
