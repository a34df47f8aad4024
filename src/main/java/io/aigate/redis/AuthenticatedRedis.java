package io.aigate.redis;

import io.aigate.config.AigateConfig;
import io.aigate.identity.EntraToken;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Redis logged in with the sidecar's Entra token ({@code aigate.redis.credential=managed-identity}); with a password,
 * {@link RedisLogin} hands out Quarkus's own client instead, untouched.
 *
 * <p>Nothing is stored. The sidecar's
 * Entra token (from azure-identity, refreshed ahead of expiry like layer 3's) is the password, and its object id the
 * user, as Azure Cache for Redis and Azure Managed Redis expect. The service closes a connection whose token expired,
 * and a client's login is fixed when the client is built, so each new token gets a new client built from the same
 * {@code quarkus.redis.*} options: new commands and connections use it at once, long-lived connections (the
 * invalidation channel, the token-limit links) move over when told ({@link #onNewLogin}), and the previous client is
 * closed {@code rotation-grace} later, when whatever was in flight on it has finished. No connection outlives its
 * token, and no token is ever written out or logged.
 */
public final class AuthenticatedRedis implements Redis {

    private static final Logger LOG = Logger.getLogger(AuthenticatedRedis.class);

    private final Vertx vertx;
    private final EntraToken token;
    private final RedisOptions base;
    private final String configuredUser;
    private final long graceMillis;
    private final long firstLoginWaitMillis;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final Promise<Void> firstLogin = Promise.promise();
    private volatile Redis current;

    /** @param env the environment the Entra credential reads (AZURE_*, IDENTITY_ENDPOINT) */
    AuthenticatedRedis(
            AigateConfig.RedisLogin login,
            AigateConfig.Identity identity,
            Vertx vertx,
            QuarkusRedisOptions options,
            MeterRegistry registry,
            Function<String, Optional<String>> env) {
        this.vertx = vertx;
        this.base = options.copy();
        this.configuredUser = login.user().orElse(null);
        this.graceMillis = login.rotationGrace().toMillis();
        this.firstLoginWaitMillis = identity.firstTokenWait().toMillis();
        this.token = EntraToken.start("redis", login.resource(), login.clientId(), vertx, registry, identity, env);
        token.onNewToken(this::login);
        token.firstAttempt().onComplete(done -> {
            if (current == null) {
                firstLogin.tryFail(new IllegalStateException("no Entra token for Redis yet (" + token.state() + ")"));
            }
        });
    }

    /** Told after every new login, so a long-lived connection can move to it before the old one is closed. */
    public void onNewLogin(Runnable listener) {
        listeners.add(listener);
    }

    private synchronized void login(String newToken) {
        String user = configuredUser != null
                ? configuredUser
                : EntraToken.objectId(newToken).orElse(null);
        if (user == null) {
            LOG.warn("redis: the Entra token names no object id (oid): set aigate.redis.user to the identity's "
                    + "object id");
            return;
        }
        RedisOptions options = new RedisOptions(base);
        options.setEndpoints(options.getEndpoints().stream()
                .map(endpoint -> withLogin(endpoint, user, newToken))
                .toList());
        options.setPassword(null);
        Redis previous = current;
        current = Redis.createClient(vertx, options);
        firstLogin.tryComplete();
        listeners.forEach(Runnable::run);
        if (previous != null) {
            vertx.setTimer(Math.max(1, graceMillis), id -> previous.close());
        }
        LOG.debugf("redis: logged in with a new Entra token as %s", user);
    }

    /** The endpoint with the user and token as its user info (Vert.x reads the login from there). */
    public static String withLogin(String endpoint, String user, String password) {
        URI uri = URI.create(endpoint);
        String userInfo = URLEncoder.encode(user, StandardCharsets.UTF_8) + ":"
                + URLEncoder.encode(password, StandardCharsets.UTF_8);
        return uri.getScheme() + "://" + userInfo + "@" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                + (uri.getRawPath() == null ? "" : uri.getRawPath())
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    /** The client to use now; in managed-identity mode, waits (briefly) for the first login at start. */
    private Future<Redis> client() {
        Redis now = current;
        if (now != null) {
            return Future.succeededFuture(now);
        }
        return firstLogin
                .future()
                .timeout(Math.max(1, firstLoginWaitMillis), TimeUnit.MILLISECONDS)
                .recover(err -> Future.failedFuture(
                        err instanceof TimeoutException
                                ? new IllegalStateException("no Entra token for Redis yet")
                                : err))
                .map(v -> current);
    }

    @Override
    public Future<RedisConnection> connect() {
        return client().compose(Redis::connect);
    }

    @Override
    public Future<Response> send(Request command) {
        return client().compose(redis -> redis.send(command));
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
        return client().compose(redis -> redis.batch(commands));
    }

    @Override
    public void close() {
        Redis now = current;
        if (now != null) {
            now.close();
        }
        token.stop();
    }

    /** For readiness details: how the login stands; never the token. */
    public String state() {
        return "managed identity: " + token.state();
    }
}
