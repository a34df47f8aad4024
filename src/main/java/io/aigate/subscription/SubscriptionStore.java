package io.aigate.subscription;

import io.aigate.redis.RedisSchema;
import io.aigate.redis.RedisScript;
import io.aigate.redis.RedisTimeout;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jboss.logging.Logger;

/**
 * Subscriptions in Redis, non-blocking (Vert.x futures), following {@link RedisSchema}. The gateway reads through it;
 * the key-admin CLI writes through it, one field-level, guarded change at a time ({@code aigate/subscription-change.lua}).
 * Writes are ordered so that a failure half-way never opens a key that should be closed: a key opens only when its
 * link and the subscription's field agree, a new key is linked before the field names it, and a revoked key's field
 * changes before its link goes.
 */
public final class SubscriptionStore {

    private static final Logger LOG = Logger.getLogger(SubscriptionStore.class);

    /** A key's subscription and which of its two keys it is. */
    public record Found(Subscription subscription, Subscription.KeySlot slot) {}

    private static final RedisScript CHANGE = RedisScript.load("subscription-change.lua");

    private final RedisAPI api;
    private final long timeoutMillis;

    public SubscriptionStore(Redis redis, long timeoutMillis) {
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
            Subscription.KeySlot slot =
                    "secondary".equals(parts[1]) ? Subscription.KeySlot.SECONDARY : Subscription.KeySlot.PRIMARY;
            return api.hgetall(RedisSchema.subscription(parts[0])).map(hash -> {
                Map<String, String> fields = toMap(hash);
                if (fields.isEmpty()) {
                    return null;
                }
                Subscription subscription = readable(fields);
                // a link left behind by an interrupted rotation must not open anything
                return subscription != null && keyHash.equals(subscription.keyHash(slot))
                        ? new Found(subscription, slot)
                        : null;
            });
        }));
    }

    /**
     * A record that cannot be read (a hand-edited field, a state from a newer version) opens nothing: its keys are
     * refused like unknown ones. Failing the lookup instead would read as Redis being down, and turn one bad record
     * into 503s and a degraded store for everyone.
     */
    private static Subscription readable(Map<String, String> fields) {
        try {
            return Subscription.fromHash(fields);
        } catch (RuntimeException unreadable) {
            String id = fields.getOrDefault("id", "?");
            LOG.errorf(
                    "subscription %s: its record cannot be read (%s); its keys open nothing until it is fixed "
                            + "(aigate keys show, then update or remove it)",
                    id.matches("[A-Za-z0-9._-]{1,64}") ? id : "(unprintable id)",
                    unreadable.getClass().getSimpleName());
            return null;
        }
    }

    public Future<Subscription> get(String id) {
        return timed(api.hgetall(RedisSchema.subscription(id)).map(hash -> {
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

    /**
     * What a change did: {@code ok}, or why nothing was written ({@code exists}, {@code missing}, or the field whose
     * guard failed); and the subscription after the change (before it, for {@link #remove}), null when there is none.
     */
    public record Change(String outcome, Subscription subscription) {
        public boolean done() {
            return "ok".equals(outcome);
        }
    }

    /** Writes a new subscription; refused ({@code exists}) when the id is taken, whoever took it and whenever. */
    public Future<Change> create(Subscription subscription) {
        return change("create", subscription.id(), Map.of(), subscription.toHash());
    }

    /**
     * Writes only {@code fields}, and only while every guard holds: field to the value it must hold now, or
     * {@code "!value"} for one it must not.
     */
    public Future<Change> update(String id, Map<String, String> guards, Map<String, String> fields) {
        return change("update", id, guards, fields);
    }

    /** Removes the subscription hash, while the guards hold; its keys are for the caller to unlink. */
    public Future<Change> remove(String id, Map<String, String> guards) {
        return change("delete", id, guards, Map.of());
    }

    private Future<Change> change(String mode, String id, Map<String, String> guards, Map<String, String> fields) {
        List<String> args = new ArrayList<>();
        args.add(mode);
        args.add(Integer.toString(guards.size()));
        guards.forEach((field, expected) -> {
            args.add(field);
            args.add(expected);
        });
        fields.forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return timed(CHANGE.run(api, List.of(RedisSchema.subscription(id)), args))
                .compose(result -> {
                    Map<String, String> hash = toMap(result.get(1));
                    Change change =
                            new Change(result.get(0).toString(), hash.isEmpty() ? null : Subscription.fromHash(hash));
                    return change.done() ? index(id, 5).map(change) : Future.succeededFuture(change);
                });
    }

    /**
     * Brings the listing set and the expiry index in line with the subscription hash. They live in other hash slots,
     * so no script can change them together with it: the index is written from the hash as read, and read again
     * after; if the hash moved meanwhile (another admin), it is done again. The last writer always ends with a read
     * that follows every hash change, so the index settles on the final state.
     */
    private Future<Void> index(String id, int attempts) {
        return get(id).compose(before -> {
            Future<?> written;
            if (before == null) {
                written = api.srem(List.of(RedisSchema.SUBSCRIPTIONS, id))
                        .compose(r -> api.zrem(List.of(RedisSchema.EXPIRIES, id)));
            } else {
                // the expiry index holds active subscriptions only: "expiring soon" is about keys that still work
                boolean indexed = before.state() == Subscription.State.ACTIVE && before.expiresAt() != null;
                written = api.sadd(List.of(RedisSchema.SUBSCRIPTIONS, id))
                        .compose(r -> indexed
                                ? api.zadd(List.of(
                                        RedisSchema.EXPIRIES,
                                        Long.toString(before.expiresAt().getEpochSecond()),
                                        id))
                                : api.zrem(List.of(RedisSchema.EXPIRIES, id)));
            }
            return timed(written).compose(r -> get(id)).compose(after -> {
                boolean settled = before == null
                        ? after == null
                        : after != null
                                && after.state() == before.state()
                                && Objects.equals(after.expiresAt(), before.expiresAt());
                return settled || attempts <= 1 ? Future.succeededFuture() : index(id, attempts - 1);
            });
        });
    }

    /** Only succeeds for a key hash nobody holds yet, so two subscriptions can never share a key. */
    public Future<Boolean> link(String keyHash, String id, Subscription.KeySlot slot) {
        return timed(api.set(List.of(RedisSchema.key(keyHash), id + " " + slot.wire(), "NX"))
                .map(r -> r != null && "OK".equals(r.toString())));
    }

    public Future<Void> unlink(String keyHash) {
        return keyHash == null
                ? Future.succeededFuture()
                : timed(api.del(List.of(RedisSchema.key(keyHash))).mapEmpty());
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

    private <T> Future<T> timed(Future<T> operation) {
        return RedisTimeout.within(operation, timeoutMillis);
    }
}
