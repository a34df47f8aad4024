package io.aigate.config;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * Each section of aigate's configuration as a bean of its own, so a class asks for the section it reads, not the whole
 * file: only what composes several sections (the gateway, the start-up check, the pools) takes {@link AigateConfig}.
 * {@code ConfigSectionsTest} holds the list of those.
 */
@Singleton
public class ConfigSections {

    @Produces
    @Singleton
    AigateConfig.Audit audit(AigateConfig config) {
        return config.audit();
    }

    @Produces
    @Singleton
    AigateConfig.Management management(AigateConfig config) {
        return config.management();
    }

    @Produces
    @Singleton
    AigateConfig.Request request(AigateConfig config) {
        return config.request();
    }

    @Produces
    @Singleton
    AigateConfig.SubscriptionKey subscriptionKey(AigateConfig config) {
        return config.subscriptionKey();
    }

    @Produces
    @Singleton
    AigateConfig.RedisLogin redis(AigateConfig config) {
        return config.redis();
    }

    @Produces
    @Singleton
    AigateConfig.Identity identity(AigateConfig config) {
        return config.identity();
    }

    @Produces
    @Singleton
    AigateConfig.TokenLimit tokenLimit(AigateConfig config) {
        return config.tokenLimit();
    }

    /** Read here once: the start-up check and the token limit get this one value. */
    @Produces
    @Singleton
    CounterKey counterKey(AigateConfig.TokenLimit limit) {
        return CounterKey.read(limit.counterKey());
    }

    @Produces
    @Singleton
    AigateConfig.Realtime realtime(AigateConfig config) {
        return config.realtime();
    }

    @Produces
    @Singleton
    AigateConfig.Tokens tokens(AigateConfig config) {
        return config.tokens();
    }
}
