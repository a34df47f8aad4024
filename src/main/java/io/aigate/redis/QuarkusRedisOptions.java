package io.aigate.redis;

import io.quarkus.redis.client.RedisOptionsCustomizer;
import io.vertx.redis.client.RedisOptions;
import jakarta.inject.Singleton;

/**
 * The options Quarkus builds from {@code quarkus.redis.*} for its default client (hosts, TLS, pool sizes, client type),
 * kept so that clients logging in with an Entra token are built exactly like it, with only the login changed.
 */
@Singleton
public class QuarkusRedisOptions implements RedisOptionsCustomizer {

    private volatile RedisOptions options;

    @Override
    public void customize(String clientName, RedisOptions built) {
        if ("<default>".equals(clientName) || options == null) {
            options = new RedisOptions(built);
        }
    }

    /** A copy, or null before Quarkus built its client. */
    RedisOptions copy() {
        RedisOptions current = options;
        return current == null ? null : new RedisOptions(current);
    }
}
