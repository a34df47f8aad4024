package io.aigate.redis;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Chooses the Redis every layer talks to ({@link Authenticated}), as {@code aigate.redis.credential} says: with a
 * password (or none), Quarkus's own client itself, so that mode costs nothing on the request path (a wrapper around
 * it cost a quarter of the token-limit throughput at saturation in bench/run.sh); with managed identity,
 * {@link AuthenticatedRedis}.
 */
@Singleton
public class RedisLogin {

    private volatile AuthenticatedRedis entra;

    @Produces
    @Singleton
    @Authenticated
    Redis redis(
            AigateConfig.RedisLogin login,
            AigateConfig.Identity identity,
            Vertx vertx,
            Redis quarkusRedis,
            QuarkusRedisOptions options,
            MeterRegistry registry) {
        if (login.credential() == AigateConfig.RedisCredential.PASSWORD) {
            return quarkusRedis;
        }
        entra = new AuthenticatedRedis(
                login,
                identity,
                vertx,
                options,
                registry,
                name -> ConfigProvider.getConfig().getOptionalValue(name, String.class));
        return entra;
    }

    void stop(@Observes ShutdownEvent event) {
        AuthenticatedRedis current = entra;
        if (current != null) {
            current.close();
        }
    }
}
