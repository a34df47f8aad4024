package io.aigate.subscription;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * Listens on {@link RedisSchema#INVALIDATE_CHANNEL}: when the CLI suspends, revokes, rotates or deletes, every instance
 * drops that subscription's cached keys at once. The connection is kept up with backoff; each (re)subscription clears
 * the cache, since an invalidation published while it was down would otherwise be missed.
 */
@Startup
@Singleton
public class InvalidationChannel {

    private static final Logger LOG = Logger.getLogger(InvalidationChannel.class);
    private static final long MAX_BACKOFF_MILLIS = 10_000;

    private final Vertx vertx;
    private final Redis redis;
    private final SubscriptionLookup lookup;
    private volatile RedisConnection connection;
    private volatile boolean stopped;
    private int failures;

    InvalidationChannel(Vertx vertx, Redis redis, SubscriptionLookup lookup) {
        this.vertx = vertx;
        this.redis = redis;
        this.lookup = lookup;
        connect();
    }

    private void connect() {
        if (stopped) {
            return;
        }
        redis.connect().onSuccess(conn -> {
            connection = conn;
            conn.handler(this::onMessage);
            conn.exceptionHandler(this::lost);
            conn.endHandler(v -> lost(null));
            conn.send(Request.cmd(Command.SUBSCRIBE).arg(RedisSchema.INVALIDATE_CHANNEL)).onSuccess(r -> {
                if (failures > 0) {
                    LOG.infof("invalidation channel subscribed again after %d attempts; key cache cleared", failures);
                }
                failures = 0;
                lookup.channelState(true);
            }).onFailure(this::lost);
        }).onFailure(this::lost);
    }

    private void onMessage(Response message) {
        // RESP2 and RESP3 both deliver ["message", channel, payload]
        if (message != null && message.size() >= 3 && "message".equals(message.get(0).toString())) {
            String id = message.get(2).toString();
            lookup.invalidate(id);
            LOG.debugf("subscription %s invalidated", id);
        }
    }

    private synchronized void lost(Throwable cause) {
        if (stopped) {
            return;
        }
        RedisConnection current = connection;
        connection = null;
        if (current != null) {
            current.handler(null).exceptionHandler(null).endHandler(null);
            current.close();
        }
        if (failures++ == 0) {
            LOG.warnf("invalidation channel lost (%s); reconnecting, and clearing the key cache once back",
                    cause == null ? "connection closed" : cause.getClass().getSimpleName());
        }
        lookup.channelState(false);
        long delay = Math.min(MAX_BACKOFF_MILLIS, 250L << Math.min(6, failures - 1));
        vertx.setTimer(delay, id -> connect());
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        RedisConnection current = connection;
        if (current != null) {
            current.close();
        }
    }
}
