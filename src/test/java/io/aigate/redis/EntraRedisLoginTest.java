package io.aigate.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.identity.EntraToken;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.sandbox.LocalRedis;
import io.aigate.subscription.InvalidationAccess;
import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionKeys;
import io.aigate.subscription.SubscriptionStore;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.Keys;
import io.aigate.testing.LogCapture;
import io.aigate.tokens.RedisTokenBudgetAccess;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jose4j.jwt.JwtClaims;
import org.junit.jupiter.api.Test;

/**
 * Redis with no stored secret: the sidecar logs in with its Entra token, as Azure Cache for Redis and Azure Managed
 * Redis expect, across several token rotations. The real redis-server plays the service: each token the fake Entra ID
 * issues becomes a password of the sidecar's ACL user the moment it is issued, stops being one when it expires, and
 * every connection that logged in before the next token existed is killed then — as the service closes connections
 * whose token expired. Lookups, budgets and the invalidation channel must work throughout, and no connection may be
 * left for the service to kill.
 */
class EntraRedisLoginTest {

    static final String IDENTITY = "redis-identity";
    static final String USER = "aigate-sidecar";

    record Login(String token, long expiresAtMillis, long firstClientId) {}

    static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void everyConnectionMovesToTheNewTokenBeforeTheOldOneExpires() throws Exception {
        // workload identity, as in AKS: a projected token exchanged at the (fake) Entra authority over HTTPS
        FakeEntraId entra = FakeEntraId.start(0, "unused")
                .withHttps(0, Path.of("src/test/resources/tls/fake-entra.p12"), "changeit".toCharArray());
        Path federated = Files.createTempFile("federated-token", ".jwt");
        Files.writeString(federated, "projected-service-account-token");
        Map<String, String> environment = Map.of(
                "AZURE_FEDERATED_TOKEN_FILE",
                federated.toString(),
                "AZURE_TENANT_ID",
                "tenant-redis",
                "AZURE_CLIENT_ID",
                IDENTITY,
                "AZURE_AUTHORITY_HOST",
                entra.authorityHost());
        Vertx vertx = Vertx.vertx();
        // the sidecar's user is deploy/redis/sidecar.acl, whose selector (%R~) the bundled Redis 6 refuses
        io.aigate.testing.RedisOnPath.server(7, "ACL selectors in deploy/redis/sidecar.acl");
        try (LocalRedis redis = new LocalRedis(LocalRedis.freePort()).start();
                LogCapture logs = LogCapture.start()) {
            RedisAPI root = RedisAPI.api(Redis.createClient(vertx, redis.url()));
            List<String> rule = new ArrayList<>(List.of("SETUSER", USER, "on"));
            rule.addAll(List.of(Files.readAllLines(Path.of("deploy/redis/sidecar.acl")).stream()
                    .filter(l -> !l.isBlank() && !l.startsWith("#"))
                    .findFirst()
                    .orElseThrow()
                    .trim()
                    .replace("<budget-secret>", redis.budgetSecret())
                    .split("\\s+")));
            await(root.acl(rule));

            // the service: a token is a password from its issue to its expiry
            List<Login> logins = new CopyOnWriteArrayList<>();
            entra.lifetime(IDENTITY, 4);
            Runnable stopListening = entra.onIssue(issued -> {
                if (!IDENTITY.equals(issued.identity())) {
                    return;
                }
                try {
                    long mark = await(RedisAPI.api(Redis.createClient(vertx, redis.url()))
                                    .client(List.of("ID")))
                            .toLong();
                    await(root.acl(List.of("SETUSER", USER, ">" + issued.token())));
                    logins.add(new Login(issued.token(), issued.expiresAtMillis(), mark));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            AtomicInteger killed = new AtomicInteger();
            long expiry = vertx.setPeriodic(100, id -> expire(root, logins, killed));

            AigateConfig config = Configs.aigate(Map.of(
                    "aigate.redis.credential",
                    "managed-identity",
                    "aigate.redis.user",
                    USER,
                    "aigate.redis.rotation-grace",
                    "300ms",
                    "aigate.identity.first-token-wait",
                    "5s",
                    "aigate.subscription-key.cache-ttl",
                    "10m",
                    "aigate.subscription-key.outage-grace",
                    "10m"));
            QuarkusRedisOptions options = new QuarkusRedisOptions();
            options.customize("<default>", new RedisOptions().setConnectionString(redis.url()));
            AuthenticatedRedis authenticated = new AuthenticatedRedis(
                    config.redis(),
                    config.identity(),
                    vertx,
                    options,
                    new SimpleMeterRegistry(),
                    name -> java.util.Optional.ofNullable(environment.get(name)));

            Keys.Run created = Keys.ok(redis.url(), "create", "--name", "entra", "--id", "entra");
            String hash = SubscriptionKeys.hash(created.key("Primary"));
            SubscriptionStore store = new SubscriptionStore(authenticated, 1000);
            InvalidationAccess channel = InvalidationAccess.start(config, vertx, authenticated);
            Await.until("subscribed with the first token", Duration.ofMillis(10000), () -> channel.subscribed());

            // four token lifetimes of work on every kind of connection
            RedisTokenBudgetAccess budget =
                    new RedisTokenBudgetAccess(authenticated, 1_000_000, 100_000_000, QuotaPeriod.DAILY);
            io.vertx.core.Context eventLoop = vertx.getOrCreateContext();
            AtomicInteger failures = new AtomicInteger();
            AtomicInteger unsubscribed = new AtomicInteger();
            List<String> errors = new CopyOnWriteArrayList<>();
            long end = System.currentTimeMillis() + 9_000;
            while (System.currentTimeMillis() < end) {
                try {
                    SubscriptionStore.Found found = await(store.lookup(hash));
                    assertTrue(found != null && found.subscription().id().equals("entra"));
                    // token budgets run on an event loop, over their own long-lived connections
                    java.util.concurrent.CompletableFuture<String> admitted =
                            new java.util.concurrent.CompletableFuture<>();
                    eventLoop.runOnContext(v -> budget.admitAndSettle().onComplete(r -> {
                        if (r.succeeded()) {
                            admitted.complete(r.result());
                        } else {
                            admitted.completeExceptionally(r.cause());
                        }
                    }));
                    assertEquals("ADMITTED", admitted.get(5, TimeUnit.SECONDS));
                } catch (Throwable e) {
                    failures.incrementAndGet();
                    errors.add(e.toString());
                }
                if (!channel.subscribed()) {
                    unsubscribed.incrementAndGet();
                }
                // sampled across real token lifetimes: the Redis login rotates by Entra tokens' own expiry
                Thread.sleep(50);
            }
            assertTrue(logins.size() >= 4, "several rotations happened: " + logins.size());
            assertEquals(0, failures.get(), "every command succeeded across the rotations: " + errors);
            assertEquals(0, killed.get(), "no connection was left to outlive its token");
            assertEquals(0, unsubscribed.get(), "the channel moved to each new login without a gap");

            // the channel still hears revocations after the rotations
            assertEquals(Subscription.State.ACTIVE, channel.state(hash));
            Keys.ok(redis.url(), "suspend", "entra");
            Await.until(
                    "a suspension is heard after the rotations",
                    Duration.ofMillis(3000),
                    () -> channel.state(hash) == Subscription.State.SUSPENDED);
            stopListening.run();
            vertx.cancelTimer(expiry);
            authenticated.close();
            for (String line : logs.lines()) {
                assertFalse(line.contains("fake-entra."), "a token was logged: " + line);
                assertFalse(line.contains("WARN") && line.contains("io.aigate"), "nothing to warn about: " + line);
            }
        } finally {
            vertx.close();
            entra.close();
            Files.deleteIfExists(federated);
        }
    }

    /** The service's side: an expired token stops being a password, and connections older than its successor go. */
    private static void expire(RedisAPI root, List<Login> logins, AtomicInteger killed) {
        long now = System.currentTimeMillis();
        for (int i = 0; i + 1 < logins.size(); i++) {
            Login old = logins.get(i);
            if (now < old.expiresAtMillis() || old.token() == null) {
                continue;
            }
            long successorMark = logins.get(i + 1).firstClientId();
            logins.set(i, new Login(null, old.expiresAtMillis(), old.firstClientId()));
            root.acl(List.of("SETUSER", USER, "<" + old.token()));
            root.client(List.of("LIST")).onSuccess(list -> {
                for (String line : list.toString().split("\n")) {
                    if (line.contains(" user=" + USER + " ")) {
                        long id = Long.parseLong(
                                line.replaceAll("^id=(\\d+) .*$", "$1").trim());
                        if (id < successorMark) {
                            killed.incrementAndGet();
                            root.client(List.of("KILL", "ID", Long.toString(id)));
                        }
                    }
                }
            });
        }
    }

    @Test
    void theUserIsTheTokensObjectId() {
        JwtClaims claims = FakeEntraId.appToken("tenant", "https://redis.azure.com", "app");
        claims.setClaim("oid", "4f1d2c3b-0000-4000-8000-000000000001");
        org.jose4j.jwk.RsaJsonWebKey key;
        try {
            key = org.jose4j.jwk.RsaJwkGenerator.generateJwk(2048);
        } catch (org.jose4j.lang.JoseException e) {
            throw new IllegalStateException(e);
        }
        key.setKeyId("k");
        String token = FakeEntraId.mint(key, claims);
        assertEquals(
                "4f1d2c3b-0000-4000-8000-000000000001",
                EntraToken.objectId(token).orElseThrow());
        assertTrue(EntraToken.objectId("not-a-jwt").isEmpty());
        assertEquals(
                "rediss://4f1d2c3b-0000-4000-8000-000000000001:tok.en-_x@cache.redis.azure.net:10000",
                AuthenticatedRedis.withLogin(
                        "rediss://cache.redis.azure.net:10000", "4f1d2c3b-0000-4000-8000-000000000001", "tok.en-_x"));
    }
}
