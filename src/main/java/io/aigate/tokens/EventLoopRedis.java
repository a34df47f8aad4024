package io.aigate.tokens;

import io.aigate.redis.AuthenticatedRedis;
import io.aigate.redis.RedisTimeout;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisConnection;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One long-lived, pipelined Redis connection per event loop for the commands every limited request sends. A pooled
 * client takes a connection per command and hands the answer to whichever thread owns it; here many admissions share
 * one connection in flight, and each answer comes back on the caller's own event loop. A connection that fails, closes
 * or stops answering is dropped, and the next command opens a new one. Callers off the event loop use the pool.
 */
final class EventLoopRedis {

    private final Redis redis;
    private final RedisAPI pooled;
    private final long timeoutMillis;
    private final ThreadLocal<Link> links = new ThreadLocal<>();
    /** Moves on with every new Redis login: a link opened with an older one is replaced at its next use. */
    private final AtomicInteger login = new AtomicInteger();

    /** The connection of one event loop, while it is being opened and while it is up. */
    private static final class Link {
        int login;
        Future<RedisAPI> api;
        volatile RedisConnection connection;
        volatile boolean dead;
    }

    EventLoopRedis(Redis redis, long timeoutMillis) {
        this.redis = redis;
        this.pooled = RedisAPI.api(redis);
        this.timeoutMillis = timeoutMillis;
        if (redis instanceof AuthenticatedRedis authenticated) {
            authenticated.onNewLogin(login::incrementAndGet);
        }
    }

    /** Runs a command on this event loop's connection, failing after the timeout (a silent Redis counts as down). */
    <T> Future<T> send(Function<RedisAPI, Future<T>> command) {
        Link link = link();
        Future<RedisAPI> api = link == null ? Future.succeededFuture(pooled) : link.api;
        return RedisTimeout.within(api.compose(command), timeoutMillis).onFailure(err -> {
            if (link != null) {
                drop(link); // a connection that failed or stopped answering is not trusted with the next request
            }
        });
    }

    private Link link() {
        Context context = Vertx.currentContext();
        if (context == null || !context.isEventLoopContext()) {
            return null;
        }
        Link link = links.get();
        if (link != null && !link.dead && link.login == login.get()) {
            return link;
        }
        // the old link is left to finish what it carries; its client closes it after the rotation grace
        Link opening = new Link();
        opening.login = login.get();
        links.set(opening);
        opening.api = redis.connect()
                .map(connection -> {
                    opening.connection = connection;
                    connection.exceptionHandler(err -> drop(opening));
                    connection.endHandler(v -> drop(opening));
                    if (opening.dead) {
                        connection.close();
                    }
                    return RedisAPI.api(connection);
                })
                .onFailure(err -> drop(opening));
        return opening;
    }

    private void drop(Link link) {
        link.dead = true;
        RedisConnection connection = link.connection;
        link.connection = null;
        if (connection != null) {
            connection.exceptionHandler(null).endHandler(null);
            connection.close();
        }
    }
}
