package io.aigate.identity;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.Refreshed;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * An Entra ID token for one (resource, identity), kept warm ahead of expiry so that no request ever waits on Entra ID.
 *
 * <p>azure-identity's own caches are not enough for a data path: they refetch on every call in a token's last minutes
 * and some credentials do not cache at all. So this class owns the schedule: one fetch per token lifetime, on a
 * dedicated thread (azure-identity blocks), never on the event loop, by the one refresh loop ({@link Refreshed}): a
 * failed refresh keeps serving the still-valid token and retries with exponential backoff.
 */
final class RefreshingToken implements BackendCredential {

    private static final String AUTHORIZATION = "Authorization";

    /** What a request needs, precomputed once per token so the hot path only reads one volatile field. */
    private record Held(String token, String headerValue, long expiresAtMillis, long usableUntilMillis) {}

    private final String label;
    private final TokenCredential credential;
    private final TokenRequestContext tokenRequest;
    private final LongSupplier clock;
    private final long refreshAheadMillis;
    private final long firstTokenWaitMillis;
    private final Counter fetched;
    private final Counter failed;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
    private final Refreshed<Held> held;

    /** A token with the configured refresh and retry timings, on the system clock. */
    static RefreshingToken of(
            String label,
            TokenCredential credential,
            String resource,
            ScheduledExecutorService refresher,
            MeterRegistry registry,
            AigateConfig.Identity identity) {
        return new RefreshingToken(
                label,
                credential,
                resource,
                refresher,
                registry,
                System::currentTimeMillis,
                identity.refreshAhead(),
                identity.retryInitialDelay(),
                identity.retryMaxDelay(),
                identity.firstTokenWait());
    }

    RefreshingToken(
            String label,
            TokenCredential credential,
            String resource,
            ScheduledExecutorService refresher,
            MeterRegistry registry,
            LongSupplier clock,
            Duration refreshAhead,
            Duration retryInitial,
            Duration retryMax,
            Duration firstTokenWait) {
        this.label = label;
        this.credential = credential;
        this.tokenRequest = new TokenRequestContext().addScopes(scopeOf(resource));
        this.clock = clock;
        this.refreshAheadMillis = refreshAhead.toMillis();
        this.held = new Refreshed<>(
                        "identity " + label,
                        this::fetch,
                        Refreshed.onThread(refresher),
                        new Backoff(retryInitial.toMillis(), retryMax.toMillis()),
                        clock)
                .onChange((previous, current) -> {
                    if (previous == null || !previous.token.equals(current.token)) {
                        listeners.forEach(listener -> listener.accept(current.token));
                    }
                });
        this.firstTokenWaitMillis = firstTokenWait.toMillis();
        this.fetched = Counter.builder("aigate.identity.token.refresh")
                .tag("identity", label)
                .tag("result", "success")
                .description("Backend token fetches from Entra ID")
                .register(registry);
        this.failed = Counter.builder("aigate.identity.token.refresh")
                .tag("identity", label)
                .tag("result", "failure")
                .description("Backend token fetches from Entra ID")
                .register(registry);
        Gauge.builder("aigate.identity.token.remaining", this, t -> t.secondsLeft())
                .tag("identity", label)
                .baseUnit("seconds")
                .description("Lifetime left on the backend token in use (0 when none)")
                .register(registry);
    }

    /**
     * A thread of its own for one identity's fetches: azure-identity blocks, and MSAL retries a failing endpoint for
     * many seconds, which must not delay any other identity's refresh.
     */
    static java.util.concurrent.ScheduledExecutorService refreshThread(String name) {
        return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "aigate-identity-refresh-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Scope form of an APIM-style resource: {@code https://cognitiveservices.azure.com} becomes {@code …/.default}. */
    static String scopeOf(String resource) {
        if (resource.endsWith("/.default")) {
            return resource;
        }
        return (resource.endsWith("/") ? resource.substring(0, resource.length() - 1) : resource) + "/.default";
    }

    void start() {
        held.start();
    }

    /** Told each new token, on the refresh thread, right after it is fetched (and so well before the old expires). */
    void onNewToken(Consumer<String> listener) {
        listeners.add(listener);
    }

    /** The token while it is usable, else null. */
    String token() {
        Held current = held.value();
        return current != null && clock.getAsLong() < current.usableUntilMillis ? current.token : null;
    }

    Future<Void> firstAttempt() {
        return held.firstAttempt();
    }

    /** One fetch, on the refresh thread (azure-identity blocks): the token, and when to fetch the next. */
    private Future<Refreshed.Fetched<Held>> fetch() {
        AccessToken token;
        try {
            token = credential.getTokenSync(tokenRequest);
        } catch (RuntimeException | Error e) {
            failed.increment();
            throw e;
        }
        long now = clock.getAsLong();
        long expiresAt = token.getExpiresAt().toInstant().toEpochMilli();
        long lifetime = Math.max(0, expiresAt - now);
        // a token is no longer handed out in its last tenth (at most 10 s): it must survive the trip to the backend
        long usableUntil = expiresAt - Math.min(10_000, lifetime / 10);
        fetched.increment();
        long refreshAt = expiresAt - Math.min(refreshAheadMillis, lifetime / 2);
        if (token.getRefreshAt() != null) {
            refreshAt = Math.min(refreshAt, token.getRefreshAt().toInstant().toEpochMilli());
        }
        return Future.succeededFuture(new Refreshed.Fetched<>(
                new Held(token.getToken(), "Bearer " + token.getToken(), expiresAt, usableUntil), refreshAt - now));
    }

    @Override
    public Future<Outcome> authorize(MultiMap outboundHeaders) {
        if (setIfValid(outboundHeaders)) {
            return Policy.PROCEED;
        }
        if (held.firstAttempt().isComplete() || firstTokenWaitMillis <= 0) {
            return Future.succeededFuture(unavailable());
        }
        // cold start only: wait briefly for the fetch already under way, then decide on the event loop again
        return Refreshed.within(held.firstAttempt(), firstTokenWaitMillis)
                .map(waited -> setIfValid(outboundHeaders) ? Outcome.proceed() : unavailable());
    }

    private boolean setIfValid(MultiMap outboundHeaders) {
        Held current = held.value();
        if (current != null && clock.getAsLong() < current.usableUntilMillis) {
            outboundHeaders.set(AUTHORIZATION, current.headerValue);
            return true;
        }
        return false;
    }

    private Outcome unavailable() {
        return Outcome.refuse(CredentialRefusal.until(
                CredentialRefusal.Kind.ENTRA_TOKEN, held.nextAttemptAtMillis(), clock.getAsLong()));
    }

    @Override
    public boolean usable() {
        Held current = held.value();
        return current != null && clock.getAsLong() < current.usableUntilMillis;
    }

    @Override
    public String state() {
        Held current = held.value();
        long now = clock.getAsLong();
        String lastFailure = held.lastFailure();
        if (current != null && now < current.usableUntilMillis) {
            String s = "token valid for " + (current.expiresAtMillis - now) / 1000 + " s";
            return lastFailure == null ? s : s + ", refresh failing (" + lastFailure + ")";
        }
        if (!held.firstAttempt().isComplete()) {
            return "fetching first token";
        }
        return "no valid token (" + lastFailure + "), next attempt in "
                + Math.max(0, held.nextAttemptAtMillis() - now) / 1000 + " s";
    }

    private double secondsLeft() {
        Held current = held.value();
        return current == null ? 0 : Math.max(0, (current.expiresAtMillis - clock.getAsLong()) / 1000.0);
    }
}
