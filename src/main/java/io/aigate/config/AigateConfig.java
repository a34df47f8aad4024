package io.aigate.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything aigate reads from configuration, under one prefix. Names follow APIM's policy attributes where one exists
 * ({@code client-id}, {@code resource}, {@code header-name}, {@code query-parameter-name}, {@code timeout}).
 */
@ConfigMapping(prefix = "aigate")
public interface AigateConfig {

    /** Upstream services by name: where to send, how to prove ourselves. */
    Map<String, Backend> backends();

    /** Which deployments go to which backend; matched exactly first, then the {@code *} route. */
    Map<String, Route> routes();

    /**
     * Backend pools by name (APIM's load-balanced pool): a route's {@code backend} may name one. Members are backends;
     * a lower {@code priority} group is used only while every member of the groups before it is unavailable, and
     * within a group requests are spread by {@code weight}.
     */
    Map<String, Pool> pools();

    interface Pool {
        /** Members are tracked per request in a bit set of one {@code long}. */
        int MAX_MEMBERS = 64;

        /** The members by backend name; each sets at least its {@code priority}. */
        Map<String, PoolMember> members();
    }

    interface PoolMember {
        /** Lower first, as APIM's {@code priority}: 0 to 100. */
        @WithDefault("1")
        int priority();

        /** Share of its priority group's requests, relative to the group's other members: 1 to 100. */
        @WithDefault("1")
        int weight();
    }

    /**
     * The routes this instance serves, when not all (the injector sets it from a pod's {@code aigate.io/routes}
     * annotation); requests for the others get 404 as if they had no route.
     */
    Optional<List<String>> enabledRoutes();

    Request request();

    SubscriptionKey subscriptionKey();

    Identity identity();

    Jwt jwt();

    Tokens tokens();

    TokenLimit tokenLimit();

    Realtime realtime();

    Audit audit();

    /**
     * The Realtime API's WebSocket ({@code GET realtime}, granted per route): what one session may hold and how long
     * it may last. Every bound closes the session with its own close code; see docs/realtime.md.
     */
    interface Realtime {
        /** One WebSocket frame, either way; a larger one closes the session (1009). */
        @WithDefault("256K")
        MemorySize maxFrameSize();

        /** One message (its frames together), either way: it is held whole to be judged; beyond it 1009. */
        @WithDefault("1M")
        MemorySize maxMessageSize();

        /** No frame either way for this long closes the session (1001): a stalled side holds nothing for longer. */
        @WithDefault("120s")
        Duration idleTimeout();

        /** A session closes after this long, whatever it is doing (1008). */
        @WithDefault("60m")
        Duration maxSessionDuration();

        /**
         * Sessions open at once on this instance; beyond it an upgrade gets 503. Each may hold a message and a write
         * queue each way ({@code 4 × max-message-size}); all of them together must fit in half the heap.
         */
        @WithDefault("8")
        int maxSessions();

        /** {@code response.create}s refused by the token limit in a row before aigate closes the session (1013). */
        @WithDefault("3")
        int refusalsBeforeClose();
    }

    /** The audit trail: one JSON line per request on the {@code aigate.audit} logger (stdout by default). */
    interface Audit {
        /** {@code all} requests, {@code refusals} only (4xx and 5xx, and requests aigate refused), or {@code off}. */
        @WithDefault("refusals")
        AuditMode log();
    }

    enum AuditMode {
        ALL,
        REFUSALS,
        OFF
    }

    /** Who may read the management port beyond its health probes. */
    Management management();

    interface Management {
        /**
         * Sources (CIDR, e.g. {@code 127.0.0.1/32}, or the pod range an in-cluster Prometheus scrapes from) that may read everything on the management port: {@code /q/metrics}
         * names subscription ids. Every other source gets only {@code /q/health} (the kubelet's probes). By default only
         * the pod itself ({@code 127.0.0.1/32}, {@code ::1/128}); add the scraper's addresses, or {@code 0.0.0.0/0} and
         * {@code ::/0} to serve everyone as before.
         */
        @WithDefault("127.0.0.1/32,::1/128")
        List<String> allowedSources();
    }

    /** How the sidecar and the CLI log in to Redis; where Redis is stays {@code quarkus.redis.hosts}. */
    RedisLogin redis();

    interface RedisLogin {
        /**
         * {@code password}: {@code quarkus.redis.password}, or none (self-hosted Redis). {@code managed-identity}: the
         * sidecar's own Entra token as the password (Azure Cache for Redis, Azure Managed Redis), refreshed ahead of
         * expiry; no secret exists anywhere.
         */
        @WithDefault("password")
        RedisCredential credential();

        /** The Entra resource the token is for. */
        @WithDefault("https://redis.azure.com")
        String resource();

        /** A user-assigned identity's client id; by default the pod's workload identity (or the node's). */
        Optional<String> clientId();

        /** The Redis user; by default the token's object id ({@code oid}), which is the name Azure gives the identity. */
        Optional<String> user();

        /**
         * Connections opened with a token are closed this long after the next token arrived: commands in flight finish
         * on them, new ones use connections opened with the new token. Far below the refresh-ahead, so no connection
         * outlives its token.
         */
        @WithDefault("30s")
        Duration rotationGrace();
    }

    enum RedisCredential {
        PASSWORD,
        MANAGED_IDENTITY
    }

    /** The routes this instance serves: {@link #enabledRoutes()} of {@link #routes()}, or all of them. */
    default Map<String, Route> servedRoutes() {
        Optional<List<String>> enabled = enabledRoutes();
        if (enabled.isEmpty()) {
            return routes();
        }
        Map<String, Route> served = new java.util.LinkedHashMap<>();
        routes().forEach((name, route) -> {
            if (enabled.get().contains(name)) {
                served.put(name, route);
            }
        });
        return served;
    }

    /** Whether callers on this route must present a token: its {@code validate-jwt}, else {@code aigate.jwt.enabled}. */
    default boolean validatesJwt(Route route) {
        return route.validateJwt().orElse(jwt().enabled());
    }

    /**
     * Whether this instance verifies tokens at all, and so fetches signing keys: {@code aigate.jwt.enabled}, or a served
     * route that sets {@code validate-jwt=true}. The one answer to "is JWT in use"; without it, a subscription bound to
     * client applications cannot be honoured here.
     */
    default boolean jwtInUse() {
        return jwt().enabled() || servedRoutes().values().stream().anyMatch(this::validatesJwt);
    }

    /**
     * APIM's {@code llm-token-limit}, enforced across every aigate instance through Redis. These are the defaults; a
     * subscription's own limits (set with {@code aigate keys limits}) take precedence. No limit is enforced unless
     * {@code tokens-per-minute} or {@code token-quota} is set here or on the subscription.
     */
    interface TokenLimit {
        /** Whose budget a request spends: {@code subscription}, {@code client-app} or {@code header:<name>}. */
        @WithDefault("subscription")
        String counterKey();

        /** Token rate as a leaky bucket that drains continuously (never a counter reset each minute). */
        OptionalLong tokensPerMinute();

        OptionalLong tokenQuota();

        /** Hourly, Daily, Weekly, Monthly or Yearly: fixed windows aligned to UTC. */
        Optional<QuotaPeriod> tokenQuotaPeriod();

        /** Count the prompt with the model's tokenizer before forwarding, so a request over the limit never costs. */
        @WithDefault("true")
        boolean estimatePromptTokens();

        /** Completion tokens reserved when a request sets no {@code max_tokens}; reconciled with the real usage. */
        @WithDefault("1000")
        long defaultCompletionTokens();

        /**
         * The most completion tokens one request may reserve, whatever its {@code max_tokens} says (no model writes
         * more): a caller cannot hold a shared budget hostage with an absurd maximum while its request is in flight.
         */
        @WithDefault("128000")
        long maxCompletionReservation();

        @WithDefault("Retry-After")
        String retryAfterHeaderName();

        /** Response header with the tokens left in the rate bucket; empty for none. */
        @WithDefault("x-aigate-remaining-tokens")
        Optional<String> remainingTokensHeaderName();

        /** Response header with the tokens left in the quota window; empty for none. */
        @WithDefault("x-aigate-remaining-quota-tokens")
        Optional<String> remainingQuotaTokensHeaderName();

        /**
         * Response header with the tokens a non-streamed answer used; such answers (up to 4 MB) are then held until
         * complete. Unset by default: aigate relays every answer as it arrives.
         */
        Optional<String> tokensConsumedHeaderName();

        /** When Redis cannot be reached: {@code local} (a limiter in this instance), {@code allow} or {@code deny}. */
        @WithDefault("local")
        RedisUnavailable onRedisUnavailable();

        /** The share of each limit one instance enforces on its own while Redis is unreachable. */
        @WithDefault("0.25")
        double localShare();

        /** After a Redis failure, how long the local limiter is used before Redis is tried again. */
        @WithDefault("2s")
        Duration redisRetryInterval();

        /** Counters tracked in the headroom gauge (the most recent ones); bounds its cardinality. */
        @WithDefault("1000")
        int headroomGaugeMaxCounters();
    }

    enum RedisUnavailable {
        LOCAL,
        ALLOW,
        DENY
    }

    /** Token accounting (APIM {@code llm-emit-token-metric}). */
    interface Tokens {
        /** Dimensions of {@code aigate_tokens_total}, from route, backend, deployment, subscription. */
        @WithDefault("route,backend,deployment,subscription")
        List<String> dimensions();

        /**
         * Ask for usage on streams whose caller did not ({@code stream_options.include_usage}), and hide it again on
         * the way back: the caller gets the stream it asked for, byte for byte, and the count is exact.
         */
        @WithDefault("true")
        boolean addStreamUsage();
    }

    interface Backend {
        /** Base URL; a path in it is prepended to the forwarded path. Checked at start-up for a clear message. */
        Optional<String> url();

        @WithDefault("managed-identity")
        CredentialMode credential();

        /** Audience of the managed-identity token (APIM {@code authentication-managed-identity resource}). */
        @WithDefault("https://cognitiveservices.azure.com")
        String resource();

        /** User-assigned identity; the system-assigned identity (or AZURE_CLIENT_ID under workload identity) when absent. */
        Optional<String> clientId();

        /** Environment variable holding the provider API key ({@code credential=api-key}). */
        Optional<String> apiKeyEnv();

        /** Mounted file holding the provider API key ({@code credential=api-key}); re-read when it changes. */
        Optional<String> apiKeyFile();

        /**
         * Key Vault secret holding the provider API key ({@code credential=api-key}), read with the sidecar's identity
         * ({@code client-id}, else the pod's): {@code https://<vault>.vault.azure.net/secrets/<name>[/<version>]}.
         */
        Optional<String> apiKeySecret();

        /** How often the Key Vault secret is read again, so a rotated key is used without a restart. */
        @WithDefault("5m")
        Duration apiKeyRefresh();

        @WithDefault("api-key")
        String apiKeyHeader();

        /** Scheme sent before the key in {@code api-key-header}, e.g. {@code Bearer} with {@code Authorization}. */
        Optional<String> apiKeyScheme();

        /** Removed from the start of the request path before it is appended to {@link #url()}. */
        Optional<String> stripPrefix();

        @WithDefault("5s")
        Duration connectTimeout();

        /** How long the backend may stay silent: before its response headers, and between two chunks of a stream. */
        @WithDefault("300s")
        Duration timeout();

        @WithDefault("200")
        int maxConnections();

        /**
         * Whether this backend accepts {@code stream_options.include_usage} (Azure OpenAI from api-version 2024-09-01,
         * OpenAI); set false for providers that refuse unknown parameters.
         */
        @WithDefault("true")
        boolean streamUsage();

        /**
         * The name this backend gives a deployment, by the name callers use, when the two differ (a pool's members in
         * other resources often name the same model differently). Unlisted names are sent as they came.
         */
        Map<String, String> deploymentNames();

        /** APIM's {@code circuitBreaker} rule for this backend. */
        CircuitBreaker circuitBreaker();
    }

    /** When a backend rests (gets no traffic), for how long, and who else hears of it. */
    interface CircuitBreaker {
        /** On for the members of a pool, off for a backend used alone, unless set. */
        Optional<Boolean> enabled();

        FailureCondition failureCondition();

        /** How long a tripped backend rests before one probe request decides whether it is back. */
        @WithDefault("30s")
        Duration tripDuration();

        /**
         * APIM's {@code acceptRetryAfter}: a 429 that says how long to wait ({@code retry-after-ms}, {@code Retry-After},
         * {@code x-ratelimit-reset-requests/-tokens}) rests the backend that long at once, without waiting for the count.
         */
        @WithDefault("true")
        boolean acceptRetryAfter();

        /** The longest rest any answer (or another instance) can impose: a wait beyond it is cut to it. */
        @WithDefault("5m")
        Duration maxTripDuration();

        /**
         * Tell every other aigate instance through Redis when a 429 rests this backend, so none of them sends it the
         * request that would be refused. Never a Redis call on a request's path.
         */
        @WithDefault("true")
        boolean shareRest();

        /**
         * A deployment takes at most one rest from the fleet's channel per this interval (each at most
         * {@code max-trip-duration}, ended by one probe): whoever can publish on the channel can rest a deployment for
         * at most {@code max-trip-duration} out of every interval, never for good. Its own 429s still rest it at once.
         */
        @WithDefault("15m")
        Duration fleetRestInterval();
    }

    /** APIM's {@code failureCondition}: this many failures within the interval trip the breaker. */
    interface FailureCondition {
        @WithDefault("3")
        int count();

        @WithDefault("10s")
        Duration interval();

        /** Status codes and ranges that count as failures, e.g. {@code 429,500-599}. */
        @WithDefault("429,500-599")
        List<String> statusCodeRanges();

        /** {@code connection-failure} (refused, reset, no route) and {@code timeout} (no answer in time). */
        @WithDefault("connection-failure,timeout")
        List<String> errorReasons();

        List<String> ERROR_REASONS = List.of("connection-failure", "timeout");
    }

    enum CredentialMode {
        MANAGED_IDENTITY,
        API_KEY,
        NONE
    }

    interface Route {
        /** Deployment names (classic path segment, or the v1 body's {@code model}); {@code *} takes the rest. */
        List<String> deployments();

        String backend();

        /** Whether callers on this route must present a valid Entra ID token; {@code aigate.jwt.enabled} when unset. */
        Optional<Boolean> validateJwt();

        /** APIM's {@code required-claims}: claim name to the values it must carry. */
        Map<String, RequiredClaim> requiredClaims();

        /**
         * The operations callers may use on this route, as {@code METHOD path} relative to the API root
         * ({@code GET files/{file-id}/content}); anything else is 404. By default the inference operations only:
         * listing files, batches or stored completions reaches every team's data on a shared backend identity, so it
         * must be granted by name. Requests that name no deployment (v1 {@code files}, {@code models}) use the
         * {@code *} route.
         */
        @WithDefault(DEFAULT_OPERATIONS)
        List<String> operations();

        /** Trying the request on another member of the route's pool, before any byte of an answer reached the caller. */
        Retry retry();

        // --- body features (issue 22 item 2) ---
        /**
         * What a request body on this route may make the backend reach or do beyond metered tokens, by name
         * ({@code data-sources}, {@code file-search}, {@code background}, …; see {@code ValidateBodyFeatures}). None by
         * default: on a shared backend identity each reaches every team's data, or spends unmetered.
         */
        Optional<List<String>> bodyFeatures();

        /**
         * A deployment name: letters, digits, {@code . _ -}, at most 64, starting and ending with a letter or digit.
         * Stricter than it need be on purpose: servers that trim a trailing dot or space would read
         * {@code gpt-4o.} as {@code gpt-4o}, which must never meet a different route.
         */
        static boolean isDeploymentName(String name) {
            // by hand, not a regex: every request's deployment is checked, and this is a tenth of the work
            int length = name == null ? 0 : name.length();
            if (length == 0
                    || length > 64
                    || !letterOrDigit(name.charAt(0))
                    || !letterOrDigit(name.charAt(length - 1))) {
                return false;
            }
            for (int i = 1; i < length - 1; i++) {
                char c = name.charAt(i);
                if (!letterOrDigit(c) && c != '.' && c != '_' && c != '-') {
                    return false;
                }
            }
            return true;
        }

        private static boolean letterOrDigit(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        }

        /** {@code METHOD path}: a method (or {@code *}) and segments, each plain or one {@code {parameter}}. */
        java.util.regex.Pattern OPERATION = java.util.regex.Pattern.compile(
                "(\\*|[A-Z]+)\\s+([A-Za-z0-9._~-]+|\\{[A-Za-z0-9_-]+})(/([A-Za-z0-9._~-]+|\\{[A-Za-z0-9_-]+}))*");

        String DEFAULT_OPERATIONS = "POST chat/completions,POST completions,POST embeddings,POST responses,"
                + "POST images/generations,POST images/edits,POST audio/speech,POST audio/transcriptions,"
                + "POST audio/translations";
    }

    /**
     * APIM's {@code retry} around {@code forward-request}: a 429, a 5xx, a failed connection or a timeout before the
     * answer's first byte is tried again on the next available member of the pool (never on the one that failed).
     */
    interface Retry {
        /** Attempts after the first, at most. */
        @WithDefault("2")
        int count();

        /** No attempt starts later than this after the first. */
        @WithDefault("30s")
        Duration within();

        /** Answers tried again on the next member: statuses and ranges, as the breaker's (see {@link StatusRanges}). */
        @WithDefault("429,500-599")
        List<String> statusCodeRanges();

        /**
         * Whether a request the backend had but never answered (no answer in time, a connection lost after it was
         * sent) is tried again. It may have been served, and billed, already: false never pays twice, and retries only
         * what never reached a backend and the statuses listed.
         */
        @WithDefault("true")
        boolean unanswered();
    }

    /** One {@code <claim name="…" match="all|any" separator="…">} with its {@code <value>}s. */
    interface RequiredClaim {
        List<String> values();

        @WithDefault("all")
        Match match();

        /** Splits a string claim into values; {@code scp} (Entra's one space-separated string) splits on space. */
        Optional<String> separator();
    }

    enum Match {
        ALL,
        ANY
    }

    /** Layer 2, APIM's {@code validate-jwt} / {@code validate-azure-ad-token}. */
    interface Jwt {
        /** Whether routes validate tokens unless they say {@code validate-jwt=false}. */
        @WithDefault("false")
        boolean enabled();

        /** Entra tenant: accepts its v1 and v2 issuers, and discovers keys from its v2 openid-configuration. */
        Optional<String> tenantId();

        /** OpenID discovery documents (issuer and jwks_uri); defaults to the tenant's v2 document. */
        Optional<List<String>> openidConfig();

        /** A JWKS URL to use instead of discovery. */
        Optional<String> jwksUri();

        /** Accepted issuers (any may match), added to those that tenant-id and discovery give. */
        Optional<List<String>> issuers();

        /** Accepted audiences (any may match): the API's application id URI or client id. */
        Optional<List<String>> audiences();

        @WithDefault("true")
        boolean requireExpirationTime();

        @WithDefault("0s")
        Duration clockSkew();

        @WithDefault("Authorization")
        String headerName();

        @WithDefault("401")
        int failedValidationHttpcode();

        /** Replaces every validation failure message (not the 403 claim messages). */
        Optional<String> failedValidationErrorMessage();

        @WithDefault("RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384")
        List<String> algorithms();

        /** Signing keys are fetched again this often. */
        @WithDefault("1h")
        Duration keysRefreshInterval();

        /** A token signed by an unknown key triggers at most one key fetch per this period. */
        @WithDefault("30s")
        Duration unknownKeyCooldown();

        @WithDefault("10000")
        long cacheMaxEntries();
    }

    interface Request {
        /** Request bodies are buffered up to this size (later layers need {@code model} and token estimates). */
        @WithDefault("1M")
        MemorySize maxBodySize();

        /**
         * Request body bytes held across all requests in flight; beyond it a request gets 503 with Retry-After. Keeps
         * many slow or partial uploads from filling the heap (the JVM image runs with a 96 MB heap).
         */
        @WithDefault("16M")
        MemorySize maxBufferedSize();

        /**
         * The heap one request body's parsed JSON may take (estimated as it is parsed; counted against
         * {@code max-buffered-size} too); beyond it 413. A tree is many times its bytes: {@code [{},{},…]} about 30.
         */
        @WithDefault("8M")
        MemorySize maxParsedSize();

        /** How long a caller may take to send its body once its headers passed; then 408 and the connection closes. */
        @WithDefault("30s")
        Duration receiveTimeout();
    }

    /** Layer 1. APIM's subscription-key parameter names; whatever carries the key is never forwarded. */
    interface SubscriptionKey {
        /** APIM's "subscription required": when false, requests pass without a key (and no subscription is known). */
        @WithDefault("true")
        boolean required();

        @WithDefault("Ocp-Apim-Subscription-Key")
        String headerName();

        /** Read only when the header is absent, as APIM does. */
        @WithDefault("subscription-key")
        String queryParameterName();

        /**
         * Also take the key where the SDKs put theirs, so they work unchanged: {@code api-key} (Azure OpenAI SDKs) and
         * {@code Authorization: Bearer aig_…} (OpenAI SDKs on the v1 API; an Entra token there is left alone).
         */
        @WithDefault("true")
        boolean acceptSdkHeaders();

        /** A cached key is used this long without asking Redis; after it, a hit is served and re-checked behind. */
        @WithDefault("30s")
        Duration cacheTtl();

        /** How long a key confirmed by Redis keeps working while Redis cannot be reached. */
        @WithDefault("60s")
        Duration outageGrace();

        /** How long an unknown key is remembered as unknown, so random keys cannot hammer Redis. */
        @WithDefault("10s")
        Duration negativeCacheTtl();

        @WithDefault("10000")
        long cacheMaxEntries();

        /** A Redis that has not answered within this is treated as unreachable. */
        @WithDefault("1s")
        Duration redisTimeout();

        /**
         * The invalidation channel is PINGed this often. A load balancer may drop an idle connection without a word;
         * a PING not answered within {@code redis-timeout} means the channel is reconnected and the key cache flushed,
         * since revocations may have been missed.
         */
        @WithDefault("10s")
        Duration invalidationKeepalive();

        /** Subscriptions expiring within this are counted in {@code aigate_subscriptions_expiring} (for alerts). */
        @WithDefault("14d")
        Duration expiryWarning();

        /** How often that count is read from Redis (one ZCOUNT per instance). */
        @WithDefault("5m")
        Duration expiryCheckInterval();
    }

    /** Named groups of deployments, for subscriptions scoped to a product (APIM's products). */
    Map<String, Product> products();

    interface Product {
        /** Deployment names; {@code *} for all. */
        List<String> deployments();
    }

    interface Identity {
        /** Refresh this long before expiry (at most half the token's lifetime), so no request ever waits on Entra ID. */
        @WithDefault("5m")
        Duration refreshAhead();

        @WithDefault("1s")
        Duration retryInitialDelay();

        @WithDefault("30s")
        Duration retryMaxDelay();

        /** How long a request may wait for the very first token while it is being fetched (cold start only). */
        @WithDefault("3s")
        Duration firstTokenWait();

        /**
         * Whether the Azure instance-metadata endpoint may be used when no other managed-identity source is configured.
         * Off in tests and the sandbox: they must never reach a non-loopback address.
         */
        @WithDefault("true")
        boolean allowImds();
    }
}
