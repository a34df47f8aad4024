package io.aigate.redis;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Backoff;
import io.quarkus.arc.All;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * aigate's one subscribed Redis connection, for every channel a layer listens on ({@link ChannelListener}): the key
 * layer's invalidations, the backend pools' shared rests. The connection is kept up with backoff; each listener hears
 * when it was lost and when it is back, since what was published meanwhile is gone. Subscribed only once Redis
 * confirmed every channel (a refusal, e.g. an ACL without one of them, or silence never passes for a subscription). A
 * subscribed connection is silent until something is published, so a connection dropped without a word (Azure load
 * balancers drop idle TCP after minutes) would look healthy for ever: it is PINGed every
 * {@code subscription-key.invalidation-keepalive}, and one PING left unanswered for {@code redis-timeout} counts as
 * lost, unless messages kept arriving meanwhile: a PING's answer queues behind every message published before it, so
 * a flood on any channel would otherwise pass for a dead connection and force a reconnect (and a gap).
 */
@Startup
@Singleton
public class RedisChannels {

    private static final Logger LOG = Logger.getLogger(RedisChannels.class);
    private static final Backoff RECONNECT = new Backoff(250, 10_000);

    private final Vertx vertx;
    private final Redis redis;
    private final List<ChannelListener> listeners;
    private final String[] channels;
    private final long keepaliveMillis;
    private final long timeoutMillis;
    /** The subscribed connection, once Redis confirmed it. */
    private volatile RedisConnection connection;
    /** A connection whose subscription Redis has not confirmed yet. */
    private volatile RedisConnection pending;

    private volatile boolean stopped;
    private int failures;
    /** Messages heard on the subscribed connections. */
    private final AtomicLong heard = new AtomicLong();

    @jakarta.inject.Inject
    RedisChannels(
            Vertx vertx,
            @Authenticated Redis redis,
            AigateConfig.SubscriptionKey keys,
            @All List<ChannelListener> listeners) {
        this(
                vertx,
                redis,
                keys.invalidationKeepalive().toMillis(),
                keys.redisTimeout().toMillis(),
                listeners);
    }

    /** Subscribes at once, for the listeners that are {@link ChannelListener#active()}. */
    public static RedisChannels start(
            Vertx vertx, Redis redis, AigateConfig.SubscriptionKey keys, List<ChannelListener> listeners) {
        return new RedisChannels(vertx, redis, keys, listeners);
    }

    private RedisChannels(
            Vertx vertx, Redis redis, long keepaliveMillis, long timeoutMillis, List<ChannelListener> listeners) {
        this.vertx = vertx;
        this.redis = redis;
        this.listeners = listeners.stream().filter(ChannelListener::active).toList();
        this.channels =
                this.listeners.stream().map(ChannelListener::channel).distinct().toArray(String[]::new);
        this.keepaliveMillis = keepaliveMillis;
        this.timeoutMillis = timeoutMillis;
        if (channels.length == 0) {
            return;
        }
        if (redis instanceof AuthenticatedRedis authenticated) {
            // a new login: subscribe with it first, then let the old connection go; no gap, so nothing missed
            authenticated.onNewLogin(() -> vertx.runOnContext(v -> {
                if (connection != null && pending == null) {
                    connect();
                }
            }));
        }
        connect();
    }

    private void connect() {
        if (stopped) {
            return;
        }
        redis.connect()
                .onSuccess(conn -> {
                    pending = conn;
                    // the client completes SUBSCRIBE before Redis answers it: only Redis's confirmation counts, and a
                    // refusal (an ACL without the channel) or silence must never pass for a subscription
                    long unconfirmed = vertx.setTimer(
                            timeoutMillis,
                            id -> lost(
                                    conn,
                                    new TimeoutException("SUBSCRIBE not confirmed within " + timeoutMillis + " ms")));
                    Set<String> unconfirmedChannels = new HashSet<>(List.of(channels));
                    conn.handler(message -> onMessage(conn, message, unconfirmed, unconfirmedChannels));
                    conn.exceptionHandler(cause -> lost(conn, cause));
                    conn.endHandler(v -> lost(conn, null));
                    Request subscribe = Request.cmd(Command.SUBSCRIBE);
                    for (String channel : channels) {
                        subscribe.arg(channel);
                    }
                    conn.send(subscribe).onFailure(cause -> lost(conn, cause));
                })
                .onFailure(cause -> lost(null, cause));
    }

    private synchronized void subscribed(RedisConnection conn, long unconfirmed) {
        if (conn != pending || !vertx.cancelTimer(unconfirmed)) {
            return;
        }
        pending = null;
        RedisConnection previous = connection;
        connection = conn;
        if (previous != null) {
            quietlyClose(previous); // replaced while both were subscribed: nothing was missed
        } else {
            if (failures > 0) {
                LOG.infof("Redis channels %s subscribed again after %d attempts", List.of(channels), failures);
            }
            failures = 0;
            listeners.forEach(listener -> listener.subscribed(true));
        }
        vertx.setTimer(keepaliveMillis, id -> ping(conn));
    }

    private void ping(RedisConnection conn) {
        if (conn != connection) {
            return; // that connection was given up; its successor runs its own keepalive
        }
        AtomicBoolean settled = new AtomicBoolean();
        AtomicLong watchdog = new AtomicLong(-1);
        watch(conn, settled, watchdog, heard.get());
        conn.send(Request.cmd(Command.PING)).onComplete(answer -> {
            if (!settled.compareAndSet(false, true)) {
                return; // too late: already counted as lost
            }
            vertx.cancelTimer(watchdog.get()); // else it fires for nothing: an idle sidecar would wake twice a PING
            if (answer.failed()) {
                lost(conn, answer.cause());
            } else {
                vertx.setTimer(keepaliveMillis, id -> ping(conn));
            }
        });
    }

    /** Gives a PING {@code redis-timeout} to be answered, again and again while messages keep arriving before it. */
    private void watch(RedisConnection conn, AtomicBoolean settled, AtomicLong watchdog, long heardBefore) {
        watchdog.set(vertx.setTimer(timeoutMillis, id -> {
            if (settled.get()) {
                return;
            }
            long heardNow = heard.get();
            if (heardNow != heardBefore && conn == connection) {
                // alive and busy: the answer is queued behind what it still reads
                watch(conn, settled, watchdog, heardNow);
            } else if (settled.compareAndSet(false, true)) {
                lost(conn, new TimeoutException("PING unanswered for " + timeoutMillis + " ms"));
            }
        }));
    }

    private void onMessage(RedisConnection conn, Response message, long unconfirmed, Set<String> unconfirmedChannels) {
        if (message == null) {
            return;
        }
        if (message.type() == ResponseType.ERROR) {
            // a refused SUBSCRIBE arrives here (e.g. NOPERM: the user's ACL lacks a channel)
            lost(conn, new IllegalStateException(message.toString()));
            return;
        }
        if (message.type() != ResponseType.MULTI && message.type() != ResponseType.PUSH) {
            return;
        }
        // RESP2 and RESP3 both deliver ["subscribe", channel, count] and ["message", channel, payload]
        if (message.size() >= 3 && "subscribe".equals(message.get(0).toString())) {
            if (unconfirmedChannels.remove(message.get(1).toString()) && unconfirmedChannels.isEmpty()) {
                subscribed(conn, unconfirmed);
            }
        } else if (message.size() >= 3 && "message".equals(message.get(0).toString())) {
            heard.incrementAndGet();
            String channel = message.get(1).toString();
            String payload = message.get(2).toString();
            for (ChannelListener listener : listeners) {
                if (listener.channel().equals(channel)) {
                    listener.message(payload);
                }
            }
        }
    }

    /** {@code which} is the connection that failed, or null when none was made; news of an older one is ignored. */
    private synchronized void lost(RedisConnection which, Throwable cause) {
        if (stopped) {
            return;
        }
        if (which != null && which == pending) {
            pending = null;
            quietlyClose(which);
            if (connection != null) {
                return; // a replacement failed; the subscription in place goes on (and is watched by its PINGs)
            }
        } else if (which != null && which != connection) {
            return;
        } else if (which == null && connection != null) {
            return; // a replacement could not connect; the subscription in place goes on
        }
        RedisConnection current = connection;
        connection = null;
        if (current != null) {
            quietlyClose(current);
        }
        if (failures++ == 0) {
            LOG.warnf(
                    "Redis channels %s lost (%s); reconnecting",
                    List.of(channels),
                    cause == null
                            ? "connection closed"
                            : cause.getClass().getSimpleName()
                                    + (cause instanceof TimeoutException || redisRefusal(cause)
                                            ? ": " + cause.getMessage()
                                            : ""));
        }
        listeners.forEach(listener -> listener.subscribed(false));
        vertx.setTimer(RECONNECT.delayAfter(failures), id -> connect());
    }

    /** Redis's own refusals name what to fix (an ACL, a password) and carry nothing secret. */
    private static boolean redisRefusal(Throwable cause) {
        String message = cause.getMessage();
        return message != null
                && (message.startsWith("NOPERM") || message.startsWith("NOAUTH") || message.startsWith("WRONGPASS"));
    }

    private static void quietlyClose(RedisConnection conn) {
        conn.handler(null).exceptionHandler(null).endHandler(null);
        conn.close();
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        for (RedisConnection current : new RedisConnection[] {connection, pending}) {
            if (current != null) {
                current.close();
            }
        }
    }
}
