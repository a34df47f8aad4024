package io.aigate.jwt;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.Refreshed;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Future;
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

    private final AigateConfig.Jwt config;
    private final List<String> discovery;
    private final long cooldownMillis;
    private final Set<String> discoveredIssuers = ConcurrentHashMap.newKeySet();
    private final HttpClient http;
    private final Refreshed<List<JsonWebKey>> keys;
    private final Clock clock;

    SigningKeys(AigateConfig aigate, Vertx vertx, Clock clock) {
        this.clock = clock;
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
                // the idle timeout closes a spent connection; a pool sweep every second on top would only wake
                // an idle sidecar
                .setPoolCleanerPeriod(0)
                .setVerifyHost(true));
        long every = config.keysRefreshInterval().toMillis();
        this.keys = new Refreshed<>(
                "signing keys",
                () -> jwksUris().compose(this::loadAll).map(all -> new Refreshed.Fetched<>(nonEmpty(all), every)),
                Refreshed.onVertx(vertx),
                // after a failure: 1 s, 2 s, … up to 30 s, never later than the regular refresh
                new Backoff(1000, Math.min(30_000, every)),
                clock::millis);
        if (aigate.jwtInUse()) {
            keys.start();
        }
    }

    private static List<JsonWebKey> nonEmpty(List<JsonWebKey> all) {
        if (all.isEmpty()) {
            throw new IllegalStateException("empty key set");
        }
        return List.copyOf(all);
    }

    /** Whether any key was ever loaded: before that, a token cannot be judged (503, not 401). */
    public boolean ready() {
        return keys.value() != null;
    }

    List<JsonWebKey> current() {
        List<JsonWebKey> current = keys.value();
        return current == null ? List.of() : current;
    }

    Set<String> discoveredIssuers() {
        return discoveredIssuers;
    }

    String state() {
        String lastFailure = keys.lastFailure();
        return current().size() + " signing keys"
                + (lastFailure == null ? "" : ", last fetch failed (" + lastFailure + ")");
    }

    /**
     * How long a request with an unknown key waits for the keys fetched for it: Entra answers in well under a second,
     * and a key endpoint that trickles must not hold requests (the fetch itself goes on, to its own deadline).
     */
    static final long UNKNOWN_KEY_WAIT_MILLIS = 2_000;

    /**
     * For a token whose key is unknown: fetch again unless the last fetch was within the cooldown. True when keys were
     * fetched within {@link #UNKNOWN_KEY_WAIT_MILLIS}; false (the key stays unknown: 401) otherwise.
     */
    Future<Boolean> refreshForUnknownKey() {
        if (clock.millis() - keys.lastFetchAtMillis() < cooldownMillis) {
            return Future.succeededFuture(false);
        }
        return Refreshed.within(keys.refresh(), UNKNOWN_KEY_WAIT_MILLIS);
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
