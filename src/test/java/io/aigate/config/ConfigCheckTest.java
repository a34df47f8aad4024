package io.aigate.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.runtime.configuration.ConfigurationException;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigCheckTest {

    private static AigateConfig config(Map<String, String> extra) {
        Map<String, String> values = new HashMap<>(Map.of(
                "aigate.backends.aoai.url", "https://myres.openai.azure.com",
                "aigate.backends.aoai.credential", "none",
                "aigate.routes.all.deployments", "*",
                "aigate.routes.all.backend", "aoai"));
        values.putAll(extra);
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withMapping(AigateConfig.class)
                .withDefaultValues(values)
                .build();
        return config.getConfigMapping(AigateConfig.class);
    }

    private static String refusal(Map<String, String> extra) {
        return assertThrows(
                        ConfigurationException.class,
                        () -> ConfigCheck.check(
                                config(extra), extra.containsKey("quarkus.redis.password"), idleTimeout(extra)))
                .getMessage();
    }

    /** A status list is read, and checked, where it is used: the breaker's and the retry's reading. */
    private static String ranges(String key, String value) {
        return assertThrows(ConfigurationException.class, () -> StatusRanges.read(key, List.of(value.split(","))))
                .getMessage();
    }

    /** The shipped application.properties' value unless the case sets its own. */
    private static Duration idleTimeout(Map<String, String> extra) {
        return DurationConverter.parseDuration(extra.getOrDefault("quarkus.http.idle-timeout", "360s"));
    }

    @Test
    void aWorkingConfigurationPasses() {
        assertDoesNotThrow(() -> ConfigCheck.check(config(Map.of()), false, idleTimeout(Map.of())));
    }

    @Test
    void aCallerIsNeverCutOffWhileARouteMayStillWait() {
        assertEquals(
                "aigate.routes.all may wait 605 s for an answer's first byte (its backends' connect-timeout + timeout), "
                        + "not less than quarkus.http.idle-timeout (360 s), which would cut the caller off first: raise "
                        + "quarkus.http.idle-timeout to at least 635s or lower those.",
                refusal(Map.of("aigate.backends.aoai.timeout", "600s")));
        // a pool's retries may start the last attempt up to retry.within after the first
        Map<String, String> pool = Map.of(
                "aigate.backends.payg.url", "https://payg.openai.azure.com",
                "aigate.backends.payg.credential", "none",
                "aigate.backends.payg.timeout", "320s",
                "aigate.pools.chat.members.aoai.priority", "1",
                "aigate.pools.chat.members.payg.priority", "2",
                "aigate.routes.all.backend", "chat");
        assertEquals(
                "aigate.routes.all may wait 355 s for an answer's first byte (its backends' connect-timeout + timeout, "
                        + "after retry.within), not less than quarkus.http.idle-timeout (330 s), which would cut the "
                        + "caller off first: raise quarkus.http.idle-timeout to at least 385s or lower those.",
                refusal(with(pool, "quarkus.http.idle-timeout", "330s")));
        // without retries only one attempt is waited for
        assertDoesNotThrow(() ->
                ConfigCheck.check(config(with(pool, "aigate.routes.all.retry.count", "0")), false, idleTimeout(pool)));
        // the shipped defaults fit a pool with retries
        assertDoesNotThrow(() -> ConfigCheck.check(
                config(with(pool, "aigate.backends.payg.timeout", "300s")), false, idleTimeout(pool)));
    }

    @Test
    void poolMistakesAreOneSentenceEach() {
        Map<String, String> pool = Map.of(
                "aigate.backends.payg.url", "https://payg.openai.azure.com",
                "aigate.backends.payg.credential", "none",
                "aigate.pools.chat.members.aoai.priority", "1",
                "aigate.pools.chat.members.payg.priority", "2",
                "aigate.routes.all.backend", "chat");
        assertDoesNotThrow(() -> ConfigCheck.check(config(pool), false, idleTimeout(pool)));
        assertEquals(
                "aigate.pools.chat.members.nope names a backend that is not defined: use one of [aoai, payg] or add "
                        + "aigate.backends.nope.url.",
                refusal(with(pool, "aigate.pools.chat.members.nope.priority", "3")));
        assertEquals(
                "aigate.pools.chat.members.payg.priority is 101: use 0 to 100, lower first.",
                refusal(with(pool, "aigate.pools.chat.members.payg.priority", "101")));
        assertEquals(
                "aigate.pools.chat.members.payg.weight is 0: use 1 to 100, relative to its priority group.",
                refusal(with(pool, "aigate.pools.chat.members.payg.weight", "0")));
        assertEquals(
                "aigate.pools.aoai has the name of a backend: give the pool a name of its own, so a route's backend "
                        + "names one or the other.",
                refusal(with(pool, "aigate.pools.aoai.members.payg.priority", "1")));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges lists '600': use statuses "
                        + "or ranges within 100-599, e.g. 429,500-599.",
                ranges("aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges", "429,600"));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges lists '599-500': use "
                        + "statuses or ranges within 100-599, e.g. 429,500-599.",
                ranges("aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges", "599-500"));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.failure-condition.error-reasons lists 'dns': use "
                        + "connection-failure or timeout.",
                refusal(with(pool, "aigate.backends.payg.circuit-breaker.failure-condition.error-reasons", "dns")));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.trip-duration must be positive and at most "
                        + "max-trip-duration, e.g. 30s.",
                refusal(with(pool, "aigate.backends.payg.circuit-breaker.trip-duration", "10m")));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.fleet-rest-interval must be longer than max-trip-duration, or "
                        + "the fleet's channel could keep the backend resting without a break: e.g. 15m.",
                refusal(with(pool, "aigate.backends.payg.circuit-breaker.fleet-rest-interval", "5m")));
        assertEquals(
                "aigate.management.allowed-sources lists '127.0.0.2': use addresses with a prefix length, e.g. "
                        + "127.0.0.1/32 or ::1/128.",
                refusal(Map.of("aigate.management.allowed-sources", "127.0.0.1/32,127.0.0.2")));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.failure-condition.count must be from 1 to 1000: the failures "
                        + "that trip it, e.g. 3.",
                refusal(with(pool, "aigate.backends.payg.circuit-breaker.failure-condition.count", "0")));
        assertEquals(
                "aigate.routes.all.retry.count must be from 0 to 10: the attempts after the first, e.g. 2.",
                refusal(with(pool, "aigate.routes.all.retry.count", "-1")));
        assertEquals(
                "aigate.routes.all.retry.status-code-ranges lists '5xx': use statuses or ranges within 100-599, e.g. "
                        + "429,500-599.",
                ranges("aigate.routes.all.retry.status-code-ranges", "429,5xx"));
        assertEquals(
                "aigate.routes.all.retry.status-code-ranges includes 200, which is not a failure: list statuses from "
                        + "400 up, e.g. 429,500-599.",
                ranges("aigate.routes.all.retry.status-code-ranges", "200-599"));
        assertEquals(
                "aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges includes 304, which is not a "
                        + "failure: list statuses from 400 up, e.g. 429,500-599.",
                ranges("aigate.backends.payg.circuit-breaker.failure-condition.status-code-ranges", "304"));
        assertEquals(
                "aigate.backends.payg.deployment-names maps 'gpt-4o' to 'gpt 4o': both must be deployment names "
                        + "(letters, digits, '.', '_' and '-', at most 64).",
                refusal(with(pool, "aigate.backends.payg.deployment-names.gpt-4o", "gpt 4o")));
        assertEquals(
                "aigate.routes.all.backend names 'nope', which is not defined: use one of [aoai, payg], a pool of "
                        + "[chat] or add aigate.backends.nope.url.",
                refusal(with(pool, "aigate.routes.all.backend", "nope")));
    }

    @Test
    void aPoolWhoseMembersAreWrittenAsAListIsToldHowToWriteThem() {
        System.setProperty("aigate.pools.listed.members", "aoai,payg");
        try {
            assertEquals(
                    "aigate.pools.listed.members is a list, which names no member's place: give each member its own "
                            + "keys, e.g. aigate.pools.listed.members.<backend>.priority=1.",
                    refusal(Map.of("aigate.routes.all.backend", "listed")));
        } finally {
            System.clearProperty("aigate.pools.listed.members");
        }
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> all = new HashMap<>(base);
        all.put(key, value);
        return all;
    }

    @Test
    void realtimeBoundsAreOneSentenceEach() {
        String frame = "aigate.realtime.max-frame-size must be at least 1K and at most "
                + "aigate.realtime.max-message-size: set a size such as 256K.";
        assertEquals(frame, refusal(Map.of("aigate.realtime.max-frame-size", "512")));
        assertEquals(
                frame,
                refusal(Map.of("aigate.realtime.max-frame-size", "2M", "aigate.realtime.max-message-size", "1M")));
        assertEquals(
                "aigate.realtime.max-message-size must be at most 64M (each session may hold one message each way): "
                        + "set a size such as 1M.",
                refusal(Map.of("aigate.realtime.max-message-size", "65M")));
        String times = "aigate.realtime.idle-timeout and max-session-duration must be above 0: e.g. 120s and 60m.";
        assertEquals(times, refusal(Map.of("aigate.realtime.idle-timeout", "0s")));
        assertEquals(times, refusal(Map.of("aigate.realtime.max-session-duration", "0s")));
        String counts = "aigate.realtime.max-sessions and refusals-before-close must be at least 1: e.g. 8 and 3.";
        assertEquals(counts, refusal(Map.of("aigate.realtime.max-sessions", "0")));
        assertEquals(counts, refusal(Map.of("aigate.realtime.refusals-before-close", "0")));
        // more than any heap this JVM may have: 1,000,000 sessions × 64M × 4
        String held =
                refusal(Map.of("aigate.realtime.max-sessions", "1000000", "aigate.realtime.max-message-size", "64M"));
        assertTrue(
                held.startsWith("aigate.realtime.max-sessions × max-message-size × 4 (what open sessions may hold: a "
                        + "message and a write queue each way) is 256000000 MB, more than half the heap ("),
                held);
        assertTrue(held.endsWith(" MB): lower either, or raise -Xmx."), held);
    }

    @Test
    void eachMistakeIsOneSentenceNamingTheKeyAndTheFix() {
        assertEquals(
                "aigate.backends.aoai.url is not set: set it to the backend's base URL, "
                        + "e.g. https://myres.openai.azure.com.",
                refusal(Map.of("aigate.backends.aoai.url", "")));
        assertEquals(
                "aigate.backends.aoai.url must be an http or https URL with a host and no query, "
                        + "e.g. https://myres.openai.azure.com.",
                refusal(Map.of("aigate.backends.aoai.url", "ftp://x")));
        assertEquals(
                "aigate.routes.all.backend names 'nope', which is not defined: use one of [aoai] or add "
                        + "aigate.backends.nope.url.",
                refusal(Map.of("aigate.routes.all.backend", "nope")));
        assertEquals(
                "aigate.routes.two.deployments repeats '*', already in aigate.routes.all.deployments: keep each "
                        + "deployment (and *) in one route only.",
                refusal(Map.of("aigate.routes.two.deployments", "gpt-4o,*", "aigate.routes.two.backend", "aoai")));
        assertEquals(
                "aigate.backends.aoai.credential=api-key needs exactly one of aigate.backends.aoai.api-key-secret "
                        + "(a Key Vault secret), aigate.backends.aoai.api-key-file (a mounted file) or "
                        + "aigate.backends.aoai.api-key-env (an environment variable).",
                refusal(Map.of("aigate.backends.aoai.credential", "api-key")));
        assertEquals(
                "aigate.backends.aoai.api-key-secret must be a secret identifier, https://<vault>.vault.azure.net/"
                        + "secrets/<name> (optionally /<version>).",
                refusal(Map.of(
                        "aigate.backends.aoai.credential",
                        "api-key",
                        "aigate.backends.aoai.api-key-secret",
                        "https://kv.vault.azure.net/keys/provider")));
        assertEquals(
                "aigate.redis.credential=managed-identity logs in with the sidecar's Entra token: remove "
                        + "quarkus.redis.password (QUARKUS_REDIS_PASSWORD), a secret that is no longer needed.",
                refusal(Map.of("aigate.redis.credential", "managed-identity", "quarkus.redis.password", "pw")));
        assertEquals(
                "aigate.backends.aoai.api-key-file /nonexistent/key cannot be read: mount the key there or fix "
                        + "the path.",
                refusal(Map.of(
                        "aigate.backends.aoai.credential",
                        "api-key",
                        "aigate.backends.aoai.api-key-file",
                        "/nonexistent/key")));
        assertEquals(
                "aigate.routes.all.body-features lists 'dataSources', which is not a body feature: use some of "
                        + String.join(", ", ConfigCheck.BODY_FEATURES) + ".",
                refusal(Map.of("aigate.routes.all.body-features", "data-sources,dataSources")));
        assertEquals(
                "aigate.backends.aoai.strip-prefix must start with '/', e.g. /openai/v1.",
                refusal(Map.of("aigate.backends.aoai.strip-prefix", "openai")));
        assertEquals(
                "aigate.jwt needs a key source: set aigate.jwt.tenant-id (Entra ID), aigate.jwt.openid-config or "
                        + "aigate.jwt.jwks-uri.",
                refusal(Map.of("aigate.jwt.enabled", "true")));
        assertEquals(
                "aigate.jwt.audiences is not set: list the API's application id URI or client id, e.g. "
                        + "api://my-ai-api.",
                refusal(Map.of("aigate.jwt.enabled", "true", "aigate.jwt.tenant-id", "t")));
        assertEquals(
                "aigate.jwt.algorithms lists HS256: only asymmetric algorithms (RS*, PS*, ES*) are allowed, never "
                        + "none or HMAC.",
                refusal(Map.of(
                        "aigate.jwt.enabled",
                        "true",
                        "aigate.jwt.tenant-id",
                        "t",
                        "aigate.jwt.audiences",
                        "api://x",
                        "aigate.jwt.algorithms",
                        "RS256,HS256")));
        assertEquals(
                "aigate.routes.all.required-claims needs a validated token: set aigate.routes.all.validate-jwt=true "
                        + "or aigate.jwt.enabled=true.",
                refusal(Map.of("aigate.routes.all.required-claims.roles.values", "A")));
    }

    @Test
    void tokenLimitMistakesAreRefusedTheSameWay() {
        assertEquals(
                "aigate.token-limit.token-quota needs a period: set aigate.token-limit.token-quota-period to "
                        + "Hourly, Daily, Weekly, Monthly or Yearly.",
                refusal(Map.of("aigate.token-limit.token-quota", "1000")));
        assertEquals(
                "aigate.token-limit.counter-key is 'ip': use subscription, client-app or header:<name>.",
                refusal(Map.of("aigate.token-limit.counter-key", "ip")));
        assertEquals(
                "aigate.token-limit.counter-key=client-app needs caller tokens: set aigate.jwt.enabled=true, or "
                        + "use counter-key=subscription.",
                refusal(Map.of("aigate.token-limit.counter-key", "client-app")));
        assertEquals(
                "aigate.token-limit.counter-key=header: names no header: write it as header:<name>, e.g. "
                        + "header:x-team.",
                refusal(Map.of("aigate.token-limit.counter-key", "header:")));
        assertEquals(
                "aigate.token-limit.tokens-per-minute must be positive: remove it for no rate limit.",
                refusal(Map.of("aigate.token-limit.tokens-per-minute", "0")));
        assertEquals(
                "aigate.token-limit.local-share must be above 0 and at most 1: e.g. 0.25 for a fleet of four "
                        + "replicas.",
                refusal(Map.of("aigate.token-limit.local-share", "1.5")));
        assertEquals(
                "aigate.token-limit.counter-key=subscription needs subscription keys: set "
                        + "aigate.subscription-key.required=true, or use counter-key=client-app or header:<name>.",
                refusal(Map.of(
                        "aigate.subscription-key.required", "false", "aigate.token-limit.tokens-per-minute", "1000")));
        assertEquals(
                "aigate.enabled-routes names 'gpt5', which is not a route: use some of [all] (or fix the pod's "
                        + "aigate.io/routes annotation).",
                refusal(Map.of("aigate.enabled-routes", "all,gpt5")));
        assertDoesNotThrow(() -> ConfigCheck.check(
                config(Map.of(
                        "aigate.token-limit.counter-key",
                        "header:x-team",
                        "aigate.token-limit.token-quota",
                        "1000",
                        "aigate.token-limit.token-quota-period",
                        "monthly")),
                false,
                idleTimeout(Map.of())));
    }

    /** A credential is a secret: it never crosses the network in clear, whatever the URL's host looks like. */
    @Test
    void noCredentialIsSentInClearToAHostThatIsNotLoopback() {
        assertEquals(
                "aigate.backends.aoai.url is plain http to 127.evil.example, which is not loopback, so "
                        + "credential=api-key would send its secret in clear: use https.",
                refusal(Map.of(
                        "aigate.backends.aoai.url", "http://127.evil.example",
                        "aigate.backends.aoai.credential", "api-key",
                        "aigate.backends.aoai.api-key-env", "PATH")));
        assertEquals(
                "aigate.backends.aoai.url is plain http to myres.openai.azure.com, which is not loopback, so "
                        + "credential=managed-identity would send its secret in clear: use https.",
                refusal(Map.of(
                        "aigate.backends.aoai.url", "http://myres.openai.azure.com",
                        "aigate.backends.aoai.credential", "managed-identity")));
        assertDoesNotThrow(() -> ConfigCheck.check(
                config(Map.of("aigate.backends.aoai.url", "http://myres.openai.azure.com")),
                false,
                idleTimeout(Map.of())));
        assertDoesNotThrow(() -> ConfigCheck.check(
                config(Map.of(
                        "aigate.backends.aoai.url", "http://127.0.0.1:9000",
                        "aigate.backends.aoai.credential", "api-key",
                        "aigate.backends.aoai.api-key-env", "PATH")),
                false,
                idleTimeout(Map.of())));
        Map<String, String> entra = Map.of("aigate.redis.credential", "managed-identity");
        String clear = assertThrows(
                        ConfigurationException.class,
                        () -> ConfigCheck.check(
                                config(entra),
                                false,
                                idleTimeout(entra),
                                "rediss://a.example:6380,redis://user:pw@b.example:6379"))
                .getMessage();
        assertEquals(
                "aigate.redis.credential=managed-identity would send the sidecar's Entra token to b.example in "
                        + "clear: write quarkus.redis.hosts as rediss://… (TLS).",
                clear);
        assertDoesNotThrow(() -> ConfigCheck.check(
                config(entra), false, idleTimeout(entra), "rediss://a.example:6380,redis://localhost:6379"));
    }
}
