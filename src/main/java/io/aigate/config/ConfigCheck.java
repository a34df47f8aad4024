package io.aigate.config;

import io.quarkus.runtime.Startup;
import io.quarkus.runtime.configuration.ConfigurationException;
import io.quarkus.runtime.configuration.DurationConverter;
import jakarta.inject.Singleton;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Refuses to start on a configuration that cannot work, with one sentence that names the key and the fix. Runs before
 * every other start-up bean, so nothing half-built ever serves a request. It checks how the sections hold together; a
 * value with a syntax of its own is read once, where it is used, by its one reading, which stops start-up with the
 * same kind of sentence ({@link StatusRanges#read}, {@link CounterKey#read}; {@code StartupRefusalIT}).
 */
@Startup(0)
@Singleton
public class ConfigCheck {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(ConfigCheck.class);

    ConfigCheck(AigateConfig config, CounterKey counterKey) {
        check(
                config,
                counterKey,
                env("quarkus.redis.password").isPresent(),
                DurationConverter.parseDuration(env("quarkus.http.idle-timeout").orElse(QUARKUS_IDLE_TIMEOUT)),
                env("quarkus.redis.hosts").orElse(""));
    }

    /** Quarkus's own default for {@code quarkus.http.idle-timeout}. */
    private static final String QUARKUS_IDLE_TIMEOUT = "30M";
    /** The names {@code ValidateBodyFeatures} grants by (config stands below the gateway, so they are listed here). */
    public static final List<String> BODY_FEATURES = List.of(
            "data-sources",
            "background",
            "store",
            "previous-response-id",
            "conversation",
            "prompt",
            "item-reference",
            "file-ids",
            "file-search",
            "code-interpreter",
            "mcp",
            "web-search",
            "image-generation",
            "other-tools");

    /**
     * @param redisPassword     whether {@code quarkus.redis.password} is set (Quarkus's key, outside aigate's mapping)
     * @param callerIdleTimeout {@code quarkus.http.idle-timeout}: how long a caller's connection may carry nothing
     */
    static void check(AigateConfig config, boolean redisPassword, Duration callerIdleTimeout) {
        check(config, redisPassword, callerIdleTimeout, "");
    }

    static void check(AigateConfig config, boolean redisPassword, Duration callerIdleTimeout, String redisHosts) {
        check(config, CounterKey.read(config.tokenLimit().counterKey()), redisPassword, callerIdleTimeout, redisHosts);
    }

    /**
     * @param counterKey the token limit's counter key, as its producer read it
     * @param redisHosts {@code quarkus.redis.hosts} (Quarkus's key): where a Redis login would send its secret
     */
    static void check(
            AigateConfig config,
            CounterKey counterKey,
            boolean redisPassword,
            Duration callerIdleTimeout,
            String redisHosts) {
        if (config.backends().isEmpty()) {
            fail(
                    "aigate.backends is empty: define at least one backend, e.g. aigate.backends.aoai.url=https://myres.openai.azure.com.");
        }
        if (config.routes().isEmpty()) {
            fail(
                    "aigate.routes is empty: define at least one route, e.g. aigate.routes.all.deployments=* and aigate.routes.all.backend=aoai.");
        }
        config.backends()
                .forEach((name, backend) ->
                        checkBackend(name, backend, config.identity().allowImds()));
        Map<String, String> owner = new HashMap<>();
        Map<String, String> spelled = new HashMap<>();
        config.routes().forEach((name, route) -> {
            String key = "aigate.routes." + name;
            if (!config.backends().containsKey(route.backend())
                    && !config.pools().containsKey(route.backend())
                    && env("aigate.pools." + route.backend() + ".members").isPresent()) {
                fail("aigate.pools." + route.backend() + ".members is a list, which names no member's place: give "
                        + "each member its own keys, e.g. aigate.pools." + route.backend()
                        + ".members.<backend>.priority=1.");
            }
            if (!config.backends().containsKey(route.backend())
                    && !config.pools().containsKey(route.backend())) {
                fail(key + ".backend names '" + route.backend() + "', which is not defined: use one of "
                        + config.backends().keySet()
                        + (config.pools().isEmpty()
                                ? ""
                                : ", a pool of " + config.pools().keySet())
                        + " or add aigate.backends." + route.backend() + ".url.");
            }
            if (route.retry().count() < 0 || route.retry().count() > 10) {
                fail(key + ".retry.count must be from 0 to 10: the attempts after the first, e.g. 2.");
            }
            if (route.retry().within().isNegative() || route.retry().within().isZero()) {
                fail(key + ".retry.within must be a positive duration, e.g. 30s.");
            }
            for (String deployment : route.deployments()) {
                if (deployment.isBlank()) {
                    fail(key + ".deployments has an empty entry: list deployment names separated by commas, or *.");
                }
                if (!deployment.equals("*") && !AigateConfig.Route.isDeploymentName(deployment)) {
                    fail(
                            key + ".deployments lists '" + deployment + "', which cannot name an Azure deployment: use "
                                    + "letters, digits, '.', '_' and '-' (at most 64, starting and ending with a letter or digit), or *.");
                }
                // Azure matches deployment names without regard to case, so routes do too
                String folded = deployment.toLowerCase(Locale.ROOT);
                String previous = owner.putIfAbsent(folded, name);
                if (previous != null && !previous.equals(name)) {
                    fail(key + ".deployments repeats '" + deployment + "', already in aigate.routes." + previous
                            + ".deployments"
                            + (spelled.get(folded).equals(deployment)
                                    ? ""
                                    : " as '" + spelled.get(folded) + "' (names match without regard to case)")
                            + ": keep each deployment (and *) in one route only.");
                }
                spelled.putIfAbsent(folded, deployment);
            }
            for (String operation : route.operations()) {
                if (!AigateConfig.Route.OPERATION.matcher(operation.trim()).matches()) {
                    fail(key + ".operations lists '" + operation + "', which is not an operation: write METHOD path "
                            + "below the API root, e.g. POST chat/completions or GET files/{file-id}/content.");
                }
            }
            for (String feature : route.bodyFeatures().orElse(List.of())) {
                if (!BODY_FEATURES.contains(feature.trim())) {
                    fail(key + ".body-features lists '" + feature + "', which is not a body feature: use some of "
                            + String.join(", ", BODY_FEATURES) + ".");
                }
            }
        });
        config.enabledRoutes()
                .ifPresent(enabled -> enabled.stream()
                        .filter(r -> !config.routes().containsKey(r))
                        .findFirst()
                        .ifPresent(r -> fail("aigate.enabled-routes names '" + r + "', which is not a route: use "
                                + "some of " + config.routes().keySet()
                                + " (or fix the pod's aigate.io/routes annotation).")));
        checkPools(config);
        checkCallerWait(config, callerIdleTimeout);
        checkJwt(config);
        checkRedisLogin(config, redisPassword, redisHosts);
        for (String source : config.management().allowedSources()) {
            if (Cidr.parse(source) == null) {
                fail("aigate.management.allowed-sources lists '" + source + "': use addresses with a prefix length, "
                        + "e.g. 127.0.0.1/32 or ::1/128.");
            }
        }
        checkTokenLimit(
                config.tokenLimit(), counterKey, config.subscriptionKey().required(), config.jwtInUse());
        for (String dimension : config.tokens().dimensions()) {
            if (!Set.of("route", "backend", "deployment", "subscription").contains(dimension)) {
                fail("aigate.tokens.dimensions lists '" + dimension + "': use route, backend, deployment or "
                        + "subscription (the set is bounded so metric cardinality cannot explode).");
            }
        }
        checkRealtime(config.realtime());
        if (config.request().maxBodySize().asLongValue() < 1024
                || config.request().maxBodySize().asLongValue() > Integer.MAX_VALUE) {
            fail("aigate.request.max-body-size must be between 1K and 2G: set a size such as 1M.");
        }
    }

    private static void checkPools(AigateConfig config) {
        config.pools().forEach((name, pool) -> {
            String key = "aigate.pools." + name;
            if (config.backends().containsKey(name)) {
                fail(key + " has the name of a backend: give the pool a name of its own, so a route's backend "
                        + "names one or the other.");
            }
            if (pool.members().isEmpty()) {
                fail(key + ".members is empty: list at least one backend, e.g. " + key + ".members.ptu.priority=1.");
            }
            if (pool.members().size() > AigateConfig.Pool.MAX_MEMBERS) {
                fail(key + ".members lists " + pool.members().size() + " backends: a pool takes at most "
                        + AigateConfig.Pool.MAX_MEMBERS + ".");
            }
            pool.members().forEach((member, place) -> {
                String at = key + ".members." + member;
                if (!config.backends().containsKey(member)) {
                    fail(at + " names a backend that is not defined: use one of "
                            + config.backends().keySet() + " or add aigate.backends." + member + ".url.");
                }
                if (place.priority() < 0 || place.priority() > 100) {
                    fail(at + ".priority is " + place.priority() + ": use 0 to 100, lower first.");
                }
                if (place.weight() < 1 || place.weight() > 100) {
                    fail(at + ".weight is " + place.weight() + ": use 1 to 100, relative to its priority group.");
                }
            });
        });
    }

    /**
     * Nothing reaches a caller while a route waits for an answer's first byte, so the caller's connection must outlast
     * the longest wait: every attempt's connect-timeout and timeout, and the retries' window before the last one.
     */
    private static void checkCallerWait(AigateConfig config, Duration callerIdleTimeout) {
        config.routes().forEach((name, route) -> {
            AigateConfig.Pool pool = config.pools().get(route.backend());
            Set<String> members =
                    pool == null ? Set.of(route.backend()) : pool.members().keySet();
            Duration attempt = members.stream()
                    .map(member -> config.backends().get(member))
                    .map(backend -> backend.connectTimeout().plus(backend.timeout()))
                    .max(Duration::compareTo)
                    .orElse(Duration.ZERO);
            boolean retries = members.size() > 1 && route.retry().count() > 0;
            Duration wait = retries ? attempt.plus(route.retry().within()) : attempt;
            if (wait.compareTo(callerIdleTimeout) >= 0) {
                fail("aigate.routes." + name + " may wait " + wait.toSeconds() + " s for an answer's first byte ("
                        + "its backends' connect-timeout + timeout" + (retries ? ", after retry.within" : "")
                        + "), not less than quarkus.http.idle-timeout (" + callerIdleTimeout.toSeconds()
                        + " s), which would cut the caller off first: raise quarkus.http.idle-timeout to "
                        + "at least " + (wait.toSeconds() + 30) + "s or lower those.");
            }
        });
    }

    private static void checkBreaker(String key, AigateConfig.CircuitBreaker breaker) {
        String at = key + ".circuit-breaker.";
        AigateConfig.FailureCondition condition = breaker.failureCondition();
        if (condition.count() < 1 || condition.count() > 1000) {
            fail(at + "failure-condition.count must be from 1 to 1000: the failures that trip it, e.g. 3.");
        }
        if (condition.interval().isNegative() || condition.interval().isZero()) {
            fail(at + "failure-condition.interval must be a positive duration, e.g. 10s.");
        }
        for (String reason : condition.errorReasons()) {
            if (!AigateConfig.FailureCondition.ERROR_REASONS.contains(reason.trim())) {
                fail(at + "failure-condition.error-reasons lists '" + reason + "': use "
                        + String.join(" or ", AigateConfig.FailureCondition.ERROR_REASONS) + ".");
            }
        }
        if (breaker.maxTripDuration().isNegative() || breaker.maxTripDuration().isZero()) {
            fail(at + "max-trip-duration must be a positive duration, e.g. 5m.");
        }
        if (breaker.tripDuration().isNegative()
                || breaker.tripDuration().isZero()
                || breaker.tripDuration().compareTo(breaker.maxTripDuration()) > 0) {
            fail(at + "trip-duration must be positive and at most max-trip-duration, e.g. 30s.");
        }
        if (breaker.fleetRestInterval().compareTo(breaker.maxTripDuration()) <= 0) {
            fail(at + "fleet-rest-interval must be longer than max-trip-duration, or the fleet's channel could keep "
                    + "the backend resting without a break: e.g. 15m.");
        }
    }

    /** The {@code quarkus.redis.hosts} entries a login would reach without TLS, beyond this machine. */
    private static List<String> inClear(String redisHosts) {
        List<String> clear = new java.util.ArrayList<>();
        for (String host : redisHosts.split(",")) {
            String h = host.trim();
            if (h.regionMatches(true, 0, "redis://", 0, 8) && !Loopback.url(h)) {
                clear.add(h);
            }
        }
        return clear;
    }

    private static void checkRedisLogin(AigateConfig config, boolean redisPassword, String redisHosts) {
        AigateConfig.RedisLogin login = config.redis();
        if (login.credential() != AigateConfig.RedisCredential.MANAGED_IDENTITY) {
            // a password over plain TCP is common inside a cluster (a self-hosted Redis without TLS), so it is said,
            // not refused; an Entra token, which Azure's other services would also take, is refused below
            for (String h : inClear(redisHosts)) {
                if (redisPassword || Loopback.hasUserInfo(h)) {
                    LOG.warnf(
                            "quarkus.redis.hosts sends the Redis password to %s in clear: prefer rediss://… (TLS).",
                            Loopback.hostOf(h));
                }
            }
            return;
        }
        if (redisPassword) {
            fail("aigate.redis.credential=managed-identity logs in with the sidecar's Entra token: remove "
                    + "quarkus.redis.password (QUARKUS_REDIS_PASSWORD), a secret that is no longer needed.");
        }
        for (String h : inClear(redisHosts)) {
            fail("aigate.redis.credential=managed-identity would send the sidecar's Entra token to "
                    + Loopback.hostOf(h) + " in clear: write quarkus.redis.hosts as rediss://… (TLS).");
        }
        if (login.rotationGrace().isNegative()
                || login.rotationGrace().isZero()
                || login.rotationGrace().compareTo(config.identity().refreshAhead()) >= 0) {
            fail("aigate.redis.rotation-grace must be positive and below aigate.identity.refresh-ahead, e.g. 30s.");
        }
    }

    private static void checkTokenLimit(
            AigateConfig.TokenLimit limit, CounterKey key, boolean subscriptions, boolean tokens) {
        String prefix = "aigate.token-limit.";
        if (key.kind() == CounterKey.Kind.CLIENT_APP && !tokens) {
            fail(prefix + "counter-key=client-app needs caller tokens: set aigate.jwt.enabled=true, or use "
                    + "counter-key=subscription.");
        }
        if (key.kind() == CounterKey.Kind.SUBSCRIPTION
                && !subscriptions
                && (limit.tokensPerMinute().isPresent() || limit.tokenQuota().isPresent())) {
            fail(prefix + "counter-key=subscription needs subscription keys: set "
                    + "aigate.subscription-key.required=true, or use counter-key=client-app or header:<name>.");
        }
        if (limit.tokensPerMinute().isPresent() && limit.tokensPerMinute().getAsLong() <= 0) {
            fail(prefix + "tokens-per-minute must be positive: remove it for no rate limit.");
        }
        if (limit.tokenQuota().isPresent() && limit.tokenQuota().getAsLong() <= 0) {
            fail(prefix + "token-quota must be positive: remove it for no quota.");
        }
        if (limit.tokenQuota().isPresent() && limit.tokenQuotaPeriod().isEmpty()) {
            fail(prefix + "token-quota needs a period: set " + prefix
                    + "token-quota-period to Hourly, Daily, Weekly, Monthly or Yearly.");
        }
        if (!(limit.localShare() > 0 && limit.localShare() <= 1)) {
            fail(prefix + "local-share must be above 0 and at most 1: e.g. 0.25 for a fleet of four replicas.");
        }
        if (limit.defaultCompletionTokens() < 0) {
            fail(prefix + "default-completion-tokens must be 0 or more: e.g. 1000.");
        }
        if (limit.maxCompletionReservation() < 1) {
            fail(prefix + "max-completion-reservation must be positive: e.g. 128000.");
        }
    }

    private static final Set<String> ASYMMETRIC =
            Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

    private static void checkJwt(AigateConfig config) {
        AigateConfig.Jwt jwt = config.jwt();
        config.routes().forEach((name, route) -> {
            if (!route.requiredClaims().isEmpty() && !config.validatesJwt(route)) {
                fail("aigate.routes." + name + ".required-claims needs a validated token: set aigate.routes." + name
                        + ".validate-jwt=true or aigate.jwt.enabled=true.");
            }
            route.requiredClaims().forEach((claim, rule) -> {
                if (rule.values().isEmpty() || rule.values().stream().anyMatch(String::isBlank)) {
                    fail("aigate.routes." + name + ".required-claims." + claim + ".values is empty: list the values "
                            + "the claim must carry, separated by commas.");
                }
            });
        });
        if (!config.jwtInUse()) {
            return;
        }
        if (jwt.tenantId().isEmpty()
                && jwt.openidConfig().isEmpty()
                && jwt.jwksUri().isEmpty()) {
            fail("aigate.jwt needs a key source: set aigate.jwt.tenant-id (Entra ID), aigate.jwt.openid-config or "
                    + "aigate.jwt.jwks-uri.");
        }
        if (jwt.jwksUri().isPresent()
                && jwt.tenantId().isEmpty()
                && jwt.issuers().isEmpty()) {
            fail("aigate.jwt.jwks-uri gives keys but no issuer: set aigate.jwt.issuers or aigate.jwt.tenant-id.");
        }
        if (jwt.audiences().map(List::isEmpty).orElse(true)) {
            fail("aigate.jwt.audiences is not set: list the API's application id URI or client id, e.g. "
                    + "api://my-ai-api.");
        }
        for (String alg : jwt.algorithms()) {
            if (!ASYMMETRIC.contains(alg)) {
                fail("aigate.jwt.algorithms lists " + alg + ": only asymmetric algorithms (RS*, PS*, ES*) are allowed, "
                        + "never none or HMAC.");
            }
        }
        if (jwt.failedValidationHttpcode() < 400 || jwt.failedValidationHttpcode() > 499) {
            fail("aigate.jwt.failed-validation-httpcode must be a 4xx status such as 401.");
        }
        if (jwt.clockSkew().isNegative()) {
            fail("aigate.jwt.clock-skew must not be negative: use 0s (the default) or a few seconds.");
        }
    }

    private static void checkBackend(String name, AigateConfig.Backend backend, boolean allowImds) {
        String key = "aigate.backends." + name;
        String url = backend.url().orElse("");
        if (url.isBlank()) {
            fail(key + ".url is not set: set it to the backend's base URL, e.g. https://myres.openai.azure.com.");
        }
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(key + ".url is not a valid URL: use the form https://host[:port][/path].");
        }
        if (!("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
                || uri.getHost() == null
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null) {
            fail(
                    key
                            + ".url must be an http or https URL with a host and no query, e.g. https://myres.openai.azure.com.");
        }
        if (backend.credential() != AigateConfig.CredentialMode.NONE
                && "http".equalsIgnoreCase(uri.getScheme())
                && !Loopback.host(uri.getHost())) {
            // the credential would cross the network in clear, readable and replayable by anyone on the path
            fail(key + ".url is plain http to " + uri.getHost() + ", which is not loopback, so credential="
                    + backend.credential()
                            .name()
                            .toLowerCase(java.util.Locale.ROOT)
                            .replace('_', '-')
                    + " would send its secret in clear: use https.");
        }
        if (backend.stripPrefix().isPresent() && !backend.stripPrefix().get().startsWith("/")) {
            fail(key + ".strip-prefix must start with '/', e.g. /openai/v1.");
        }
        if (backend.timeout().isNegative()
                || backend.timeout().isZero()
                || backend.connectTimeout().isNegative()
                || backend.connectTimeout().isZero()) {
            fail(key + ".timeout and " + key + ".connect-timeout must be positive durations, e.g. 300s and 5s.");
        }
        if (backend.maxConnections() < 1) {
            fail(key + ".max-connections must be at least 1.");
        }
        backend.deploymentNames().forEach((caller, own) -> {
            if (!AigateConfig.Route.isDeploymentName(caller) || !AigateConfig.Route.isDeploymentName(own)) {
                fail(key + ".deployment-names maps '" + caller + "' to '" + own + "': both must be deployment names "
                        + "(letters, digits, '.', '_' and '-', at most 64).");
            }
        });
        checkBreaker(key, backend.circuitBreaker());
        switch (backend.credential()) {
            case API_KEY -> checkApiKey(key, backend);
            case MANAGED_IDENTITY -> checkManagedIdentity(key, backend, allowImds);
            case NONE -> {}
        }
    }

    private static void checkApiKey(String key, AigateConfig.Backend backend) {
        int sources = (backend.apiKeyEnv().isPresent() ? 1 : 0)
                + (backend.apiKeyFile().isPresent() ? 1 : 0)
                + (backend.apiKeySecret().isPresent() ? 1 : 0);
        if (sources != 1) {
            fail(key + ".credential=api-key needs exactly one of " + key + ".api-key-secret (a Key Vault secret), "
                    + key + ".api-key-file (a mounted file) or " + key + ".api-key-env (an environment variable).");
        }
        backend.apiKeySecret().ifPresent(secret -> {
            try {
                SecretId.parse(secret);
            } catch (IllegalArgumentException e) {
                fail(key + ".api-key-secret " + e.getMessage() + ".");
            }
            if (backend.apiKeyRefresh().isNegative() || backend.apiKeyRefresh().isZero()) {
                fail(key + ".api-key-refresh must be a positive duration, e.g. 5m.");
            }
        });
        backend.apiKeyEnv().ifPresent(variable -> {
            if (env(variable).filter(v -> !v.isBlank()).isEmpty()) {
                fail(key + ".api-key-env names " + variable + ", which is not set: set that environment variable "
                        + "or use " + key + ".api-key-file.");
            }
        });
        backend.apiKeyFile().ifPresent(file -> {
            if (!Files.isReadable(Path.of(file))) {
                fail(key + ".api-key-file " + file + " cannot be read: mount the key there or fix the path.");
            }
        });
    }

    private static void checkManagedIdentity(String key, AigateConfig.Backend backend, boolean allowImds) {
        if (!backend.resource().startsWith("https://") && !backend.resource().startsWith("api://")) {
            fail(key + ".resource must be an audience URI such as https://cognitiveservices.azure.com.");
        }
        if (env("AZURE_FEDERATED_TOKEN_FILE").isPresent()) {
            if (env("AZURE_TENANT_ID").isEmpty()) {
                fail("AZURE_FEDERATED_TOKEN_FILE is set but AZURE_TENANT_ID is not: label the pod "
                        + "azure.workload.identity/use=true so the webhook sets both, or set AZURE_TENANT_ID.");
            }
            if (backend.clientId().isEmpty() && env("AZURE_CLIENT_ID").isEmpty()) {
                fail(key + ".client-id is not set and neither is AZURE_CLIENT_ID: annotate the service account with "
                        + "azure.workload.identity/client-id or set " + key + ".client-id.");
            }
        } else if (!allowImds && System.getenv("IDENTITY_ENDPOINT") == null && System.getenv("MSI_ENDPOINT") == null) {
            // MSAL reads these from the process environment itself, so only real environment variables count here
            fail(key + ".credential=managed-identity would use the instance-metadata endpoint, which "
                    + "aigate.identity.allow-imds=false forbids: set IDENTITY_ENDPOINT and IDENTITY_HEADER, or "
                    + "AZURE_FEDERATED_TOKEN_FILE, or allow IMDS.");
        }
    }

    private static void checkRealtime(AigateConfig.Realtime realtime) {
        long frame = realtime.maxFrameSize().asLongValue();
        long message = realtime.maxMessageSize().asLongValue();
        if (frame < 1024 || frame > message) {
            fail("aigate.realtime.max-frame-size must be at least 1K and at most aigate.realtime.max-message-size: "
                    + "set a size such as 256K.");
        }
        if (message > 64L << 20) {
            fail("aigate.realtime.max-message-size must be at most 64M (each session may hold one message each way): "
                    + "set a size such as 1M.");
        }
        if (realtime.idleTimeout().toMillis() < 1
                || realtime.maxSessionDuration().toMillis() < 1) {
            fail("aigate.realtime.idle-timeout and max-session-duration must be above 0: e.g. 120s and 60m.");
        }
        if (realtime.maxSessions() < 1 || realtime.refusalsBeforeClose() < 1) {
            fail("aigate.realtime.max-sessions and refusals-before-close must be at least 1: e.g. 8 and 3.");
        }
        // each session may hold a message being received and a write queue, each way, of up to max-message-size: all
        // of them at once must not be able to run the heap out (the image exits on OutOfMemoryError, every session
        // and request with it)
        long held = realtime.maxSessions() * 4L * message;
        long heap = Runtime.getRuntime().maxMemory();
        if (held > heap / 2) {
            fail("aigate.realtime.max-sessions × max-message-size × 4 (what open sessions may hold: a message and a "
                    + "write queue each way) is " + (held >> 20) + " MB, more than half the heap ("
                    + (heap >> 20) + " MB): lower either, or raise -Xmx.");
        }
    }

    private static Optional<String> env(String name) {
        return ConfigProvider.getConfig().getOptionalValue(name, String.class);
    }

    private static void fail(String sentence) {
        throw new ConfigurationException(sentence);
    }
}
