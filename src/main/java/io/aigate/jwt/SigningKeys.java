package io.aigate.jwt;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.Errors;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;

/**
 * The signing keys tokens are checked against: only the configured key set (by discovery or a JWKS URL), never a key
 * a token points to ({@code jku}, {@code x5u}) or carries ({@code jwk}, {@code x5c}). Fetched at start-up and every
 * refresh interval; a token signed by an unknown key triggers one fetch at most per cooldown, so a key Entra publishes
 * after the last fetch is accepted within one cooldown while a flood of invented key ids never floods Entra. A failed
 * fetch keeps the last good keys.
 */
@Startup
@Singleton
public class SigningKeys {

    private static final Logger LOG = Logger.getLogger(SigningKeys.class);

    private final Vertx vertx;
    private final AigateConfig.Jwt config;
    private final List<String> discovery;
    private final long cooldownMillis;
    private final Set<String> discoveredIssuers = ConcurrentHashMap.newKeySet();
    private final HttpClient http;
    private volatile List<JsonWebKey> keys = List.of();
    private volatile long lastFetchMillis;
    private volatile Future<Void> inFlight;
    private volatile String lastFailure;
    private int failures;
    /** While no key was ever loaded: 1 s, 2 s, … up to 30 s. */
    private static final Backoff RETRY = new Backoff(1000, 30_000);

    private final Clock clock;

    SigningKeys(AigateConfig aigate, Vertx vertx, Clock clock) {
        this.clock = clock;
        this.vertx = vertx;
        this.config = aigate.jwt();
        this.discovery = config.openidConfig()
                .orElseGet(() -> config.tenantId()
                        .map(tid -> List.of(
                                "https://login.microsoftonline.com/" + tid + "/v2.0/.well-known/openid-configuration"))
                        .orElse(List.of()));
        this.cooldownMillis = config.unknownKeyCooldown().toMillis();
        this.http = vertx.createHttpClient(new HttpClientOptions()
                .setConnectTimeout(5000)
                .setIdleTimeout(10)
                .setVerifyHost(true));
        if (aigate.jwtInUse()) {
            fetch();
            vertx.setPeriodic(config.keysRefreshInterval().toMillis(), id -> fetch());
        }
    }

    /** Whether any key was ever loaded: before that, a token cannot be judged (503, not 401). */
    public boolean ready() {
        return !keys.isEmpty();
    }

    List<JsonWebKey> current() {
        return keys;
    }

    Set<String> discoveredIssuers() {
        return discoveredIssuers;
    }

    String state() {
        return keys.size() + " signing keys" + (lastFailure == null ? "" : ", last fetch failed (" + lastFailure + ")");
    }

    /** For a token whose key is unknown: fetch again unless the last fetch was within the cooldown. */
    Future<Boolean> refreshForUnknownKey() {
        if (clock.millis() - lastFetchMillis < cooldownMillis) {
            return Future.succeededFuture(false);
        }
        return fetch().map(true).otherwise(false);
    }

    synchronized Future<Void> fetch() {
        if (inFlight != null) {
            return inFlight;
        }
        lastFetchMillis = clock.millis();
        Promise<Void> done = Promise.promise();
        inFlight = done.future();
        jwksUris().compose(this::loadAll).onComplete(result -> {
            synchronized (this) {
                inFlight = null;
            }
            if (result.succeeded() && !result.result().isEmpty()) {
                keys = List.copyOf(result.result());
                if (lastFailure != null) {
                    LOG.infof("signing keys fetched again (%d keys)", keys.size());
                }
                lastFailure = null;
                failures = 0;
                done.complete();
            } else {
                lastFailure = result.succeeded()
                        ? "empty key set"
                        : result.cause().getClass().getSimpleName();
                LOG.warnf(
                        "signing keys could not be fetched (%s); %s",
                        result.succeeded() ? "empty key set" : Errors.describe(result.cause()),
                        keys.isEmpty() ? "tokens get 503 until keys arrive" : "the last good keys stay in use");
                if (keys.isEmpty()) {
                    vertx.setTimer(RETRY.delayAfter(++failures), id -> fetch());
                }
                done.fail(result.succeeded() ? new IllegalStateException("empty key set") : result.cause());
            }
        });
        return done.future();
    }

    private Future<List<String>> jwksUris() {
        if (config.jwksUri().isPresent()) {
            return Future.succeededFuture(List.of(config.jwksUri().get()));
        }
        List<Future<String>> uris = new ArrayList<>();
        for (String url : discovery) {
            uris.add(get(url).map(body -> {
                JsonObject document = new JsonObject(body);
                String issuer = document.getString("issuer");
                if (issuer != null) {
                    discoveredIssuers.add(issuer);
                }
                String jwks = document.getString("jwks_uri");
                if (jwks == null) {
                    throw new IllegalStateException("no jwks_uri in " + url);
                }
                return jwks;
            }));
        }
        return Future.all(uris).map(all -> uris.stream().map(Future::result).toList());
    }

    private Future<List<JsonWebKey>> loadAll(List<String> uris) {
        List<Future<List<JsonWebKey>>> sets = new ArrayList<>();
        for (String uri : uris) {
            sets.add(get(uri).map(body -> {
                try {
                    return new JsonWebKeySet(body).getJsonWebKeys();
                } catch (Exception e) {
                    throw new IllegalStateException("not a JWKS: " + uri, e);
                }
            }));
        }
        return Future.all(sets).map(all -> {
            List<JsonWebKey> merged = new ArrayList<>();
            sets.forEach(f -> merged.addAll(f.result()));
            return merged;
        });
    }

    private Future<String> get(String url) {
        return http.request(new RequestOptions()
                        .setMethod(HttpMethod.GET)
                        .setAbsoluteURI(url)
                        .setIdleTimeout(10_000))
                .compose(request -> request.send())
                .compose(response -> response.statusCode() == 200
                        ? response.body()
                        : Future.failedFuture(
                                new IllegalStateException("HTTP " + response.statusCode() + " from " + url)))
                .map(buffer -> buffer.toString());
    }

    void close(@Observes ShutdownEvent event) {
        http.close();
    }
}
