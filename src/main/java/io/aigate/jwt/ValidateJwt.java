package io.aigate.jwt;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.aigate.pipeline.Sha256;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Layer 2, APIM's {@code validate-jwt} / {@code validate-azure-ad-token}: what the caller may do. The Entra ID token in
 * {@code Authorization: Bearer …} is verified locally (no call to Entra on the request path), once per token: a token
 * seen again is looked up by its hash until it expires. Then the route's required claims, and the subscription's
 * allowed client applications ({@code azp}/{@code appid}), decide. A subscription bound to client applications needs
 * a token on every route: otherwise a leaked key would work for any app.
 */
@Singleton
public class ValidateJwt implements Policy.Stateless {

    static final int MAX_TOKEN_LENGTH = 16 * 1024;

    private record RouteRules(boolean required, List<ClaimRules.Rule> claims) {}

    private final SigningKeys keys;
    private final TokenVerifier verifier;
    private final Map<String, RouteRules> routes = new HashMap<>();
    private final Set<String> configuredIssuers = new LinkedHashSet<>();
    private final String headerName;
    private final int failedStatus;
    private final String failedMessage;
    private final long skewMillis;
    private final Cache<String, TokenVerifier.Valid> verified;
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final boolean inUse;
    private final Clock clock;

    ValidateJwt(AigateConfig config, SigningKeys keys, MeterRegistry registry, Clock clock) {
        this.clock = clock;
        AigateConfig.Jwt jwt = config.jwt();
        this.keys = keys;
        this.registry = registry;
        this.inUse = config.jwtInUse();
        this.verifier = new TokenVerifier(
                jwt.algorithms(),
                (int) jwt.clockSkew().toSeconds(),
                jwt.requireExpirationTime(),
                jwt.audiences().orElse(List.of()));
        config.routes()
                .forEach((name, route) -> routes.put(
                        name,
                        new RouteRules(
                                config.validatesJwt(route),
                                route.requiredClaims().entrySet().stream()
                                        .map(e -> ClaimRules.rule(e.getKey(), e.getValue()))
                                        .toList())));
        jwt.tenantId().ifPresent(tid -> {
            configuredIssuers.add("https://sts.windows.net/" + tid + "/");
            configuredIssuers.add("https://login.microsoftonline.com/" + tid + "/v2.0");
        });
        jwt.issuers().ifPresent(configuredIssuers::addAll);
        this.headerName = jwt.headerName();
        this.failedStatus = jwt.failedValidationHttpcode();
        this.failedMessage = jwt.failedValidationErrorMessage().orElse(null);
        this.skewMillis = jwt.clockSkew().toMillis();
        this.verified = Caffeine.newBuilder()
                .maximumSize(jwt.cacheMaxEntries())
                .executor(Runnable::run)
                .expireAfter(new Expiry<String, TokenVerifier.Valid>() {
                    @Override
                    public long expireAfterCreate(String key, TokenVerifier.Valid value, long currentTime) {
                        long millis = value.expiresAtMillis() == Long.MAX_VALUE
                                ? TimeUnit.HOURS.toMillis(1)
                                : value.expiresAtMillis() + skewMillis - clock.millis();
                        return TimeUnit.MILLISECONDS.toNanos(Math.max(0, millis));
                    }

                    @Override
                    public long expireAfterUpdate(
                            String key, TokenVerifier.Valid value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }

                    @Override
                    public long expireAfterRead(
                            String key, TokenVerifier.Valid value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    @Override
    public String name() {
        return "validate-jwt";
    }

    @Override
    public Future<Outcome> onRequestHeaders(RequestContext ctx) {
        RouteRules rules = routes.get(ctx.route().name());
        boolean required = (rules != null && rules.required())
                || !ctx.caller().allowedClientApps().isEmpty();
        if (!required) {
            return PROCEED;
        }
        if (!inUse) {
            // only a subscription's binding can require a token here, and nothing on this instance could verify one:
            // refuse for good (a 503 would have SDKs retry forever) and say what the platform team must change
            return Future.succeededFuture(refuse(JwtRefusal.UNVERIFIABLE));
        }
        Found found = extract(ctx);
        if (found == null || found.length() == 0) {
            return Future.succeededFuture(failed(JwtRefusal.Kind.MISSING, JwtRefusal.NOT_PRESENT));
        }
        if (found.length() > MAX_TOKEN_LENGTH) {
            return Future.succeededFuture(failed(JwtRefusal.Kind.TOO_LARGE, JwtRefusal.TOO_LARGE));
        }
        String hash = Sha256.hex(found.header(), found.from(), found.to());
        TokenVerifier.Valid cached = verified.getIfPresent(hash);
        if (cached != null) {
            return Future.succeededFuture(authorize(cached, rules, ctx));
        }
        if (!keys.ready()) {
            return Future.succeededFuture(refuse(JwtRefusal.KEYS_UNAVAILABLE));
        }
        String token = found.token();
        TokenVerifier.Result first = verifier.verify(token, keys.current(), issuers());
        if (first instanceof TokenVerifier.Invalid invalid && invalid.unknownKey()) {
            // a key published after our last fetch: fetch once (never more often than the cooldown) and try again
            return keys.refreshForUnknownKey()
                    .map(fetched -> decide(
                            fetched ? verifier.verify(token, keys.current(), issuers()) : first, hash, rules, ctx));
        }
        return Future.succeededFuture(decide(first, hash, rules, ctx));
    }

    /**
     * Where the token sits in its header, found without copying it out: a seen token is looked up by its hash, and only
     * a new one is cut out to be verified.
     */
    private record Found(String header, int from, int to) {
        int length() {
            return to - from;
        }

        String token() {
            return header.substring(from, to);
        }
    }

    /** The Bearer scheme is required in Authorization (as APIM's require-scheme); another header carries the bare token. */
    private Found extract(RequestContext ctx) {
        String header = ctx.inbound().headers().get(headerName);
        if (header == null) {
            return null;
        }
        int from;
        if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            from = 7;
        } else if (headerName.equalsIgnoreCase("Authorization")) {
            return null;
        } else {
            from = 0;
        }
        // what String.trim() would take off: anything up to and including a space, at either end
        int to = header.length();
        while (from < to && header.charAt(from) <= ' ') {
            from++;
        }
        while (to > from && header.charAt(to - 1) <= ' ') {
            to--;
        }
        return new Found(header, from, to);
    }

    private Outcome decide(TokenVerifier.Result result, String hash, RouteRules rules, RequestContext ctx) {
        if (result instanceof TokenVerifier.Invalid invalid) {
            return failed(JwtRefusal.Kind.INVALID, invalid.message() + " Access denied.");
        }
        TokenVerifier.Valid valid = (TokenVerifier.Valid) result;
        verified.put(hash, valid);
        return authorize(valid, rules, ctx);
    }

    private Outcome authorize(TokenVerifier.Valid valid, RouteRules rules, RequestContext ctx) {
        if (valid.expiresAtMillis() + skewMillis <= clock.millis()) {
            return failed(JwtRefusal.Kind.INVALID, JwtRefusal.EXPIRED);
        }
        String refusal = ClaimRules.check(
                rules == null ? List.of() : rules.claims(), ctx.caller().allowedClientApps(), valid.claims());
        Object app = valid.claims().getClaimValue("azp");
        ctx.caller(ctx.caller()
                .withToken(
                        app instanceof String s
                                ? s
                                : valid.claims().getClaimValue("appid") instanceof String s ? s : null,
                        valid.claims().getClaimValue("oid") instanceof String oid ? oid : null));
        if (refusal != null) {
            return refuse(JwtRefusal.claims(refusal));
        }
        count("allowed");
        return Outcome.proceed();
    }

    private Outcome failed(JwtRefusal.Kind kind, String reason) {
        return refuse(JwtRefusal.failed(kind, reason, failedStatus, failedMessage));
    }

    private Outcome refuse(JwtRefusal refusal) {
        count(refusal.kind().result);
        return Outcome.refuse(refusal);
    }

    private Set<String> issuers() {
        Set<String> discovered = keys.discoveredIssuers();
        if (discovered.isEmpty()) {
            return configuredIssuers;
        }
        Set<String> all = new LinkedHashSet<>(configuredIssuers);
        all.addAll(discovered);
        return all;
    }

    private void count(String result) {
        decisions
                .computeIfAbsent(
                        result,
                        r -> Counter.builder("aigate.jwt.decisions")
                                .tag("layer", "jwt")
                                .tag("result", r)
                                .description("Token decisions by reason")
                                .register(registry))
                .increment();
    }
}
