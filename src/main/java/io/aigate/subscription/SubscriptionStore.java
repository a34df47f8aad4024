package io.aigate.subscription;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Subscriptions in Redis, non-blocking (Vert.x futures), following {@link RedisSchema}. The gateway reads through it;
 * the key-admin CLI writes through it. Writes are ordered so that a failure half-way never opens a key that should be
 * closed: a key is linked only after its subscription exists, and unlinked before anything else on revocation.
 */
public final class SubscriptionStore {

    /** A key's subscription and which of its two keys it is. */
    public record Found(Subscription subscription, Subscription.KeySlot slot) {
    }

    private final Vertx vertx;
    private final RedisAPI api;
    private final long timeoutMillis;

    public SubscriptionStore(Vertx vertx, Redis redis, long timeoutMillis) {
        this.vertx = vertx;
        this.api = RedisAPI.api(redis);
        this.timeoutMillis = timeoutMillis;
    }

    /** The subscription a key hash opens; null when the key is unknown (or no longer linked to its subscription). */
    public Future<Found> lookup(String keyHash) {
        return timed(api.get(RedisSchema.key(keyHash)).compose(link -> {
            if (link == null) {
                return Future.succeededFuture(null);
            }
            String[] parts = link.toString().split(" ");
            if (parts.length != 2) {
                return Future.succeededFuture(null);
            }
            Subscription.KeySlot slot = "secondary".equals(parts[1]) ? Subscription.KeySlot.SECONDARY
                    : Subscription.KeySlot.PRIMARY;
            return api.hgetall(RedisSchema.subscription(parts[0])).map(hash -> {
                Map<String, String> fields = toMap(hash);
                if (fields.isEmpty()) {
                    return null;
                }
                Subscription subscription = Subscription.fromHash(fields);
                // a link left behind by an interrupted rotation must not open anything
                String current = slot == Subscription.KeySlot.PRIMARY ? subscription.primaryKeyHash()
                        : subscription.secondaryKeyHash();
                return keyHash.equals(current) ? new Found(subscription, slot) : null;
            });
        }));
    }

    public Future<Subscription> get(String id) {
        return timed(api.hgetall(RedisSchema.subscription(id))
                .map(hash -> {
                    Map<String, String> fields = toMap(hash);
                    return fields.isEmpty() ? null : Subscription.fromHash(fields);
                }));
    }

    public Future<List<Subscription>> list() {
        return timed(api.smembers(RedisSchema.SUBSCRIPTIONS).compose(ids -> {
            List<Future<Subscription>> all = new ArrayList<>();
            for (Response id : ids) {
                all.add(get(id.toString()));
            }
            return Future.all(all).map(done -> {
                List<Subscription> out = new ArrayList<>();
                for (Future<Subscription> f : all) {
                    if (f.result() != null) {
                        out.add(f.result());
                    }
                }
                return out;
            });
        }));
    }

    public Future<Void> save(Subscription subscription) {
        List<String> args = new ArrayList<>();
        args.add(RedisSchema.subscription(subscription.id()));
        subscription.toHash().forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        // the expiry index holds active subscriptions only: "expiring soon" is about keys that still work
        boolean indexed = subscription.state() == Subscription.State.ACTIVE && subscription.expiresAt() != null;
        return timed(api.hset(args).compose(r -> api.sadd(List.of(RedisSchema.SUBSCRIPTIONS, subscription.id())))
                .compose(r -> indexed
                        ? api.zadd(List.of(RedisSchema.EXPIRIES,
                        Long.toString(subscription.expiresAt().getEpochSecond()), subscription.id()))
                        : api.zrem(List.of(RedisSchema.EXPIRIES, subscription.id())))
                .mapEmpty());
    }

    /** Only succeeds for a key hash nobody holds yet, so two subscriptions can never share a key. */
    public Future<Boolean> link(String keyHash, String id, Subscription.KeySlot slot) {
        return timed(api.set(List.of(RedisSchema.key(keyHash), id + " " + slot.wire(), "NX"))
                .map(r -> r != null && "OK".equals(r.toString())));
    }

    public Future<Void> unlink(String keyHash) {
        return keyHash == null ? Future.succeededFuture() : timed(api.del(List.of(RedisSchema.key(keyHash))).mapEmpty());
    }

    public Future<Void> delete(Subscription subscription) {
        return unlink(subscription.primaryKeyHash())
                .compose(v -> unlink(subscription.secondaryKeyHash()))
                .compose(v -> timed(api.del(List.of(RedisSchema.subscription(subscription.id())))))
                .compose(v -> timed(api.srem(List.of(RedisSchema.SUBSCRIPTIONS, subscription.id()))))
                .compose(v -> timed(api.zrem(List.of(RedisSchema.EXPIRIES, subscription.id()))))
                .mapEmpty();
    }

    /** How many active subscriptions expire between now and {@code until}: one O(log n) call, whatever the count. */
    public Future<Long> countExpiringBefore(Instant until) {
        return timed(api.zcount(RedisSchema.EXPIRIES, "-inf", Long.toString(until.getEpochSecond()))
                .map(Response::toLong));
    }

    /** Tells every aigate instance to drop what it cached for this subscription. */
    public Future<Void> invalidate(String id) {
        return timed(api.publish(RedisSchema.INVALIDATE_CHANNEL, id).mapEmpty());
    }

    public Future<Void> ping() {
        return timed(api.ping(List.of()).mapEmpty());
    }

    /** Redis answers with maps (RESP3) or flat field/value arrays (RESP2); both become a map. */
    static Map<String, String> toMap(Response hash) {
        Map<String, String> out = new HashMap<>();
        if (hash == null || hash.size() == 0) {
            return out;
        }
        if (hash.type() == ResponseType.MULTI && hash.isMap()) {
            for (String key : hash.getKeys()) {
                out.put(key, hash.get(key).toString());
            }
            return out;
        }
        for (int i = 0; i + 1 < hash.size(); i += 2) {
            out.put(hash.get(i).toString(), hash.get(i + 1).toString());
        }
        return out;
    }

    /** A Redis that does not answer is as good as down: no request waits on it longer than the timeout. */
    private <T> Future<T> timed(Future<T> operation) {
        Promise<T> promise = Promise.promise();
        long timer = vertx.setTimer(timeoutMillis,
                id -> promise.tryFail(new TimeoutException("Redis did not answer within " + timeoutMillis + " ms")));
        operation.onComplete(result -> {
            vertx.cancelTimer(timer);
            if (result.succeeded()) {
                promise.tryComplete(result.result());
            } else {
                promise.tryFail(result.cause());
            }
        });
        return promise.future();
    }
}
