package io.aigate.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    Request request();

    SubscriptionKey subscriptionKey();

    Identity identity();

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
    }

    enum CredentialMode {
        MANAGED_IDENTITY, API_KEY, NONE
    }

    interface Route {
        /** Deployment names (classic path segment, or the v1 body's {@code model}); {@code *} takes the rest. */
        List<String> deployments();

        String backend();
    }

    interface Request {
        /** Request bodies are buffered up to this size (later layers need {@code model} and token estimates). */
        @WithDefault("1M")
        MemorySize maxBodySize();
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
