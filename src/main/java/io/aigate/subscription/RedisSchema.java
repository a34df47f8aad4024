package io.aigate.subscription;

/**
 * Where things live in Redis. Versioned by prefix, so a future schema can sit beside this one during a migration.
 * Each key carries a {@code {hash tag}}: on a clustered Redis every operation of one request stays in one slot.
 *
 * <pre>
 * aigate:v1:sub:{&lt;id&gt;}            HASH    the subscription (see {@link Subscription#toHash()})
 * aigate:v1:key:{&lt;sha256 of key&gt;}  STRING  "&lt;id&gt; primary|secondary": which subscription a key opens
 * aigate:v1:subs                  SET     every subscription id (for listing)
 * aigate:v1:expiries              ZSET    active subscriptions with an expiry, scored by it (epoch seconds)
 * aigate:v1:invalidate            channel a subscription id whose cached keys every instance must drop
 * </pre>
 */
public final class RedisSchema {

    public static final String PREFIX = "aigate:v1:";
    public static final String SUBSCRIPTIONS = PREFIX + "subs";
    public static final String EXPIRIES = PREFIX + "expiries";
    public static final String INVALIDATE_CHANNEL = PREFIX + "invalidate";

    private RedisSchema() {
    }

    public static String subscription(String id) {
        return PREFIX + "sub:{" + id + "}";
    }

    public static String key(String keyHash) {
        return PREFIX + "key:{" + keyHash + "}";
    }
}
