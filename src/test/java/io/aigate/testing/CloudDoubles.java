package io.aigate.testing;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.sandbox.LocalRedis;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts what aigate talks to, all on loopback: a real Redis, the fake Entra ID (at the port surefire put in
 * IDENTITY_ENDPOINT, because MSAL reads it from the environment) and the fake Azure OpenAI; then points aigate's
 * backends and routes at them.
 */
public class CloudDoubles implements QuarkusTestResourceLifecycleManager {

    public static final String PROVIDER_KEY = "sk-provider-test-key";
    public static final String SHORT_LIVED = "short-lived-identity";
    public static final String BROKEN = "broken-identity";
    public static final long SHORT_LIFETIME_SECONDS = 6;

    public static LocalRedis redis;
    /** The wire between aigate and Redis, for faults; the CLI in tests talks to {@link #redis} directly. */
    public static FaultyLink redisLink;
    /** An active subscription, scope all: its two keys. */
    public static String key;

    public static String secondaryKey;
    public static final String TENANT = "test-tenant";
    public static final String AUDIENCE = "api://aigate-test";
    /** The caller-token signing key published in the fake Entra's JWKS from the start. */
    public static org.jose4j.jwk.RsaJsonWebKey signingKey;

    private static Path redisDataDir;

    /** Stops Redis (an outage); {@link #startRedisAgain()} brings it back on the same port with the same data. */
    public static void stopRedis() {
        redis.close();
    }

    public static void startRedisAgain() {
        redis = new LocalRedis(redis.port()).persistentIn(redisDataDir).start();
    }

    public static FakeEntraId entra;
    public static FakeAzureOpenAi openAi;

    @Override
    public Map<String, String> start() {
        String identityEndpoint = System.getenv("IDENTITY_ENDPOINT");
        if (identityEndpoint == null || !identityEndpoint.startsWith("http://127.0.0.1:")) {
            throw new IllegalStateException("IDENTITY_ENDPOINT must point at loopback; run the tests through Maven");
        }
        entra = FakeEntraId.start(URI.create(identityEndpoint).getPort(), System.getenv("IDENTITY_HEADER"));
        entra.lifetime(SHORT_LIVED, SHORT_LIFETIME_SECONDS);
        entra.fail(BROKEN);
        signingKey = entra.signingKey("key-1", true);
        openAi = FakeAzureOpenAi.start(0);
        Path redisData;
        try {
            redisData = Files.createTempDirectory("aigate-test-redis");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        redisDataDir = redisData;
        redis = new LocalRedis(LocalRedis.freePort()).persistentIn(redisData).start();
        Keys.Run created = Keys.ok(redis.url(), "create", "--name", "test-suite", "--id", "test-suite");
        key = created.key("Primary");
        secondaryKey = created.key("Secondary");
        Path keyFile;
        try {
            keyFile = Files.createTempFile("aigate-provider-key", ".txt");
            Files.writeString(keyFile, PROVIDER_KEY + "\n");
            keyFile.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String backend = openAi.url();
        Map<String, String> config = new HashMap<>();
        redisLink = new FaultyLink(() -> redis.port());
        config.put("quarkus.redis.hosts", redisLink.url());
        config.put("aigate.subscription-key.invalidation-keepalive", "1s");
        config.put("aigate.backends.aoai.url", backend);
        config.put("aigate.backends.aoai-short.url", backend);
        config.put("aigate.backends.aoai-short.client-id", SHORT_LIVED);
        config.put("aigate.backends.aoai-broken.url", backend);
        config.put("aigate.backends.aoai-broken.client-id", BROKEN);
        config.put("aigate.backends.slow.url", backend);
        config.put("aigate.backends.slow.credential", "none");
        config.put("aigate.backends.slow.timeout", "1s");
        config.put("aigate.backends.dead.url", "http://127.0.0.1:" + LocalRedis.freePort());
        config.put("aigate.backends.dead.credential", "none");
        config.put("aigate.backends.mistral.url", backend + "/mistral/v1");
        config.put("aigate.backends.mistral.credential", "api-key");
        config.put("aigate.backends.mistral.api-key-file", keyFile.toString());
        config.put("aigate.backends.mistral.api-key-header", "Authorization");
        config.put("aigate.backends.mistral.api-key-scheme", "Bearer");
        config.put("aigate.backends.mistral.strip-prefix", "/openai/v1");
        // no * route in tests: unknown deployments must be 404
        config.put("aigate.routes.default.deployments", "gpt-4o,gpt-4o-mini,throttled");
        config.put("aigate.routes.short.deployments", "gpt-short");
        config.put("aigate.routes.short.backend", "aoai-short");
        config.put("aigate.routes.broken.deployments", "gpt-broken");
        config.put("aigate.routes.broken.backend", "aoai-broken");
        config.put("aigate.routes.slow.deployments", "gpt-slow,gpt-stall,gpt-flood");
        config.put("aigate.routes.slow.backend", "slow");
        // one connection per event loop, and a breaker that a single failure would trip
        config.put("aigate.backends.narrow.url", backend);
        config.put("aigate.backends.narrow.credential", "none");
        config.put("aigate.backends.narrow.max-connections", "1");
        config.put("aigate.backends.narrow.circuit-breaker.failure-condition.count", "1");
        config.put("aigate.routes.narrow.deployments", "gpt-narrow");
        config.put("aigate.routes.narrow.backend", "narrow");
        config.put("aigate.routes.dead.deployments", "gpt-dead");
        config.put("aigate.routes.dead.backend", "dead");
        config.put("aigate.routes.mistral.deployments", "mistral-large");
        config.put("aigate.routes.mistral.backend", "mistral");
        // a pool whose first member refuses connections, and one whose only member does (for the backend meters)
        config.put("aigate.backends.pool-gone.url", "http://127.0.0.1:" + LocalRedis.freePort());
        config.put("aigate.backends.pool-gone.credential", "none");
        config.put("aigate.backends.pool-ok.url", backend);
        config.put("aigate.backends.pool-ok.credential", "none");
        config.put("aigate.pools.pooled.members.pool-gone.priority", "1");
        config.put("aigate.pools.pooled.members.pool-ok.priority", "2");
        config.put("aigate.routes.pooled.deployments", "gpt-pooled");
        config.put("aigate.routes.pooled.backend", "pooled");
        config.put("aigate.backends.pool-down.url", "http://127.0.0.1:" + LocalRedis.freePort());
        config.put("aigate.backends.pool-down.credential", "none");
        config.put("aigate.backends.pool-down.circuit-breaker.failure-condition.count", "1");
        config.put("aigate.pools.downed.members.pool-down.priority", "1");
        config.put("aigate.routes.downed.deployments", "gpt-downed");
        config.put("aigate.routes.downed.backend", "downed");
        // the Realtime API: its own port at the fake, a route that grants the session, one that asks for claims too
        config.put("aigate.backends.realtime.url", openAi.realtimeUrl());
        config.put(
                "aigate.routes.realtime.deployments",
                "gpt-realtime,gpt-rt-refuse,gpt-rt-silent,gpt-rt-huge,gpt-rt-lies,gpt-rt-flood,gpt-rt-slow");
        config.put("aigate.routes.realtime.backend", "realtime");
        config.put("aigate.routes.realtime.operations", "GET realtime");
        config.put("aigate.routes.rtroles.deployments", "gpt-rt-roles");
        config.put("aigate.routes.rtroles.backend", "realtime");
        config.put("aigate.routes.rtroles.operations", "GET realtime");
        config.put("aigate.routes.rtroles.validate-jwt", "true");
        config.put("aigate.routes.rtroles.required-claims.roles.values", "Realtime.Use");
        // a session's pool whose first member refuses connections: the handshake goes on to the second
        config.put("aigate.backends.rt-gone.url", "http://127.0.0.1:" + LocalRedis.freePort());
        config.put("aigate.backends.rt-gone.credential", "none");
        config.put("aigate.pools.rtpooled.members.rt-gone.priority", "1");
        config.put("aigate.pools.rtpooled.members.realtime.priority", "2");
        config.put("aigate.routes.rtpooled.deployments", "gpt-rt-pooled");
        config.put("aigate.routes.rtpooled.backend", "rtpooled");
        config.put("aigate.routes.rtpooled.operations", "GET realtime");
        config.put("aigate.realtime.idle-timeout", "2s");
        config.put("aigate.realtime.max-message-size", "1M");
        config.put("aigate.identity.first-token-wait", "2s");
        config.put("aigate.products.chat.deployments", "gpt-4o");
        config.put("aigate.subscription-key.expiry-check-interval", "1s");
        config.put("aigate.jwt.tenant-id", TENANT);
        config.put("aigate.jwt.openid-config", entra.openidConfig(TENANT));
        config.put("aigate.jwt.audiences", AUDIENCE);
        config.put("aigate.jwt.unknown-key-cooldown", "2s");
        config.put("aigate.routes.jwt.deployments", "gpt-jwt");
        config.put("aigate.routes.jwt.backend", "aoai");
        config.put("aigate.routes.jwt.validate-jwt", "true");
        config.put("aigate.routes.roles.deployments", "gpt-roles");
        config.put("aigate.routes.roles.backend", "aoai");
        config.put("aigate.routes.roles.validate-jwt", "true");
        config.put("aigate.routes.roles.required-claims.roles.values", "Chat.Use,Chat.Admin");
        config.put("aigate.routes.roles.required-claims.roles.match", "any");
        config.put("aigate.routes.scp.deployments", "gpt-scp");
        config.put("aigate.routes.scp.backend", "aoai");
        config.put("aigate.routes.scp.validate-jwt", "true");
        config.put("aigate.routes.scp.required-claims.scp.values", "chat.read,chat.write");
        config.put("aigate.identity.retry-initial-delay", "2s");
        // limits themselves come from the subscriptions a test creates; the header is off unless configured
        config.put("aigate.token-limit.tokens-consumed-header-name", "x-tokens-consumed");
        config.put("aigate.token-limit.redis-retry-interval", "500ms");
        return config;
    }

    @Override
    public void stop() {
        if (redisLink != null) {
            redisLink.close();
        }
        if (openAi != null) {
            openAi.close();
        }
        if (entra != null) {
            entra.close();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
