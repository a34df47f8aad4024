package io.aigate.subscription;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.redis.RedisChannels;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.Keys;
import io.aigate.testing.LocalRedisCluster;
import io.aigate.testing.TestClock;
import io.aigate.tokens.TokenBudget;
import io.aigate.tokens.TokenCounter;
import io.aigate.tokens.TokenLimitMetricsAccess;
import io.aigate.tokens.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Everything aigate keeps in Redis, on a real Redis Cluster of three masters: subscriptions and keys written by the CLI
 * in cluster mode, looked up and invalidated by the sidecar's cluster client, and the token-limit script — whose two
 * keys share a hash slot — on counters spread over every master.
 */
class RedisClusterTest {

    static LocalRedisCluster cluster;
    static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        cluster = new LocalRedisCluster().start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() {
        // null when start() failed (no redis-server to run): its one sentence is the report, not a trace after it
        if (vertx != null) {
            vertx.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Redis clusterClient() {
        return Redis.createClient(
                vertx, new RedisOptions().setType(RedisClientType.CLUSTER).setConnectionString(cluster.url()));
    }

    static AigateConfig config() {
        return Configs.aigate(
                Map.of("aigate.subscription-key.cache-ttl", "10m", "aigate.token-limit.on-redis-unavailable", "deny"));
    }

    static Verdict onEventLoop(TokenBudget budget, TokenCounter counter, long tokens) throws Exception {
        java.util.concurrent.CompletableFuture<Verdict> done = new java.util.concurrent.CompletableFuture<>();
        vertx.runOnContext(v -> budget.admit(counter, tokens).onComplete(r -> {
            if (r.succeeded()) {
                done.complete(r.result());
            } else {
                done.completeExceptionally(r.cause());
            }
        }));
        return done.get(10, TimeUnit.SECONDS);
    }

    /** The same from a caller thread: the pooled client. */
    static Verdict pooled(TokenBudget budget, TokenCounter counter) throws Exception {
        return budget.admit(counter, 25)
                .toCompletionStage()
                .toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
    }

    @Test
    void tokenBudgetsWorkOnEveryMaster() throws Exception {
        AigateConfig config = config();
        TokenBudget budget = new TokenBudget(
                config,
                clusterClient(),
                TokenLimitMetricsAccess.create(new SimpleMeterRegistry(), config),
                TestClock.at(Instant.parse("2026-11-28T12:00:00Z")));
        // fallback is deny: an admission that did not run in the cluster would be refused, not quietly local
        for (int i = 0; i < 30; i++) {
            TokenCounter counter = new TokenCounter("c" + i, "s:cluster-" + i, 100, 1000, QuotaPeriod.DAILY);
            for (int j = 0; j < 4; j++) {
                // from an event loop, as in the sidecar: the pipelined connection of that loop, over the cluster
                Verdict v = onEventLoop(budget, counter, 25);
                assertTrue(v.admitted(), "counter " + i + " reservation " + j + ": " + v);
                assertEquals("redis", v.store());
            }
            Verdict over = pooled(budget, counter);
            assertEquals(Verdict.Result.RATE_LIMITED, over.result(), "counter " + i);
        }
        int mastersUsed = 0;
        for (int port : cluster.ports()) {
            mastersUsed += cluster.keysOn(port) > 0 ? 1 : 0;
        }
        assertEquals(3, mastersUsed, "30 counters spread over all three masters");
    }

    @Test
    void subscriptionsKeysAndInvalidationWorkInClusterMode() throws Exception {
        Keys.Run created = Keys.ok(
                cluster.url(),
                "--redis-client-type",
                "cluster",
                "create",
                "--name",
                "clustered",
                "--tokens-per-minute",
                "5000",
                "--token-quota",
                "100000",
                "--token-quota-period",
                "Monthly");
        String key = created.key("Primary");
        Redis client = clusterClient();
        SubscriptionLookup lookup = new SubscriptionLookup(
                config().subscriptionKey(), client, new SimpleMeterRegistry(), Clock.systemUTC());
        RedisChannels.start(vertx, client, config().subscriptionKey(), List.of(new InvalidationChannel(lookup)));
        Await.until("invalidation channel subscribed on the cluster", Duration.ofMillis(10000), () -> lookup.storeUp());
        SubscriptionLookup.Answer found = InvalidationTest.find(lookup, key);
        assertInstanceOf(SubscriptionLookup.Known.class, found);
        Subscription subscription = ((SubscriptionLookup.Known) found).found().subscription();
        assertEquals(5000L, subscription.limits().tokensPerMinute());
        assertEquals(QuotaPeriod.MONTHLY, subscription.limits().tokenQuotaPeriod());

        // the suspension is published on whichever node the CLI reaches; the sidecar listens on another one
        Keys.ok(cluster.url(), "--redis-client-type", "cluster", "suspend", created.id());
        Await.until(
                "suspension reached the cluster client within 2 s",
                Duration.ofMillis(2000),
                () -> InvalidationTest.state(lookup, key) == Subscription.State.SUSPENDED);
        Keys.Run listed = Keys.ok(cluster.url(), "--redis-client-type", "cluster", "list");
        assertTrue(listed.out().contains(created.id()), listed.out());
    }
    /**
     * The shipped users on every master: the administrators install the functions on the whole cluster with one
     * command (keeping the secret), and a sidecar logged in as its user keeps budgets on every master through the
     * function and cannot write one itself.
     */
    @Test
    void theShippedUsersKeepBudgetsOnEveryMasterThroughTheFunctionOnly() throws Exception {
        String secret = cluster.budgetSecret();
        for (int port : cluster.ports()) {
            RedisAPI node = RedisAPI.api(Redis.createClient(vertx, "redis://127.0.0.1:" + port));
            for (String user : List.of("admin", "sidecar")) {
                List<String> args = new ArrayList<>(List.of("SETUSER", "aigate-" + user, "on", ">" + user + "-pw"));
                args.addAll(List.of(RedisAclTest.rule(user)
                        .replace("<budget-secret>", secret)
                        .split("\\s+")));
                RedisAclTest.await(node.acl(args));
            }
        }
        int port = cluster.ports().get(0);
        String admin = "redis://aigate-admin:admin-pw@127.0.0.1:" + port;
        io.vertx.core.json.JsonObject installed = Keys.ok(admin, "--redis-client-type", "cluster", "install-functions")
                .json();
        assertEquals(3, installed.getInteger("nodes"));
        assertEquals(secret, installed.getString("budgetSecret"), "one secret for the whole cluster, kept");
        assertEquals(
                0,
                Keys.ok(admin, "--redis-client-type", "cluster", "install-functions")
                        .json()
                        .getInteger("loaded"),
                "a second install changes nothing");

        Redis sidecar = Redis.createClient(
                vertx,
                new RedisOptions()
                        .setType(RedisClientType.CLUSTER)
                        .setConnectionString("redis://aigate-sidecar:sidecar-pw@127.0.0.1:" + port));
        AigateConfig config = config();
        TokenBudget budget = new TokenBudget(
                config, sidecar, TokenLimitMetricsAccess.create(new SimpleMeterRegistry(), config), Clock.systemUTC());
        for (int i = 0; i < 12; i++) {
            TokenCounter counter = new TokenCounter("u" + i, "s:users-" + i, 100, 1000, QuotaPeriod.DAILY);
            Verdict v = onEventLoop(budget, counter, 25);
            assertTrue(v.admitted() && "redis".equals(v.store()), "counter " + i + ": " + v);
        }
        RedisAPI api = RedisAPI.api(sidecar);
        RedisAclTest.refused(
                "HSET on a budget",
                api.hset(List.of(io.aigate.redis.RedisSchema.limit("s:users-1") + ":rate", "t", "9")));
        RedisAclTest.refused("EVAL", api.eval(List.of("return 1", "1", io.aigate.redis.RedisSchema.limit("s:u"))));
    }
}
