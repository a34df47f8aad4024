package io.aigate.redis;

/**
 * Where things live in Redis. Versioned by prefix, so a future schema can sit beside this one during a migration.
 * Each key carries a {@code {hash tag}}: on a clustered Redis every operation of one request stays in one slot.
 *
 * <pre>
 * aigate:v1:sub:{&lt;id&gt;}            HASH    the subscription (see {@code Subscription#toHash()})
 * aigate:v1:key:{&lt;sha256 of key&gt;}  STRING  "&lt;id&gt; primary|secondary": which subscription a key opens
 * aigate:v1:subs                  SET     every subscription id (for listing)
 * aigate:v1:expiries              ZSET    active subscriptions with an expiry, scored by it (epoch seconds)
 * aigate:v1:invalidate            channel a subscription id whose cached keys every instance must drop
 * aigate:v1:backend-rest          channel "&lt;instance&gt; &lt;sent at&gt; &lt;milliseconds&gt; &lt;deployment&gt; &lt;backend url&gt;": a
 *                                 deployment throttled for that long ({@link #backendRest})
 * aigate:v1:limit:{&lt;counter&gt;}:rate                      HASH    a counter's leaky bucket
 * aigate:v1:limit:{&lt;counter&gt;}:quota:&lt;period&gt;:&lt;start&gt;  STRING  tokens used in one quota window
 * </pre>
 */
public final class RedisSchema {

    public static final String PREFIX = "aigate:v1:";
    public static final String SUBSCRIPTIONS = PREFIX + "subs";
    public static final String EXPIRIES = PREFIX + "expiries";
    public static final String INVALIDATE_CHANNEL = PREFIX + "invalidate";
    public static final String BACKEND_REST_CHANNEL = PREFIX + "backend-rest";

    private RedisSchema() {}

    /**
     * A rest on {@link #BACKEND_REST_CHANNEL}: the publishing instance (a UUID), when it was sent (epoch ms), how long
     * (ms), the backend's own deployment name folded ({@code -}: none), and the backend URL (its fleet id).
     */
    public static String backendRest(String instance, long sentAt, long restMillis, String deployment, String url) {
        return instance + " " + sentAt + " " + restMillis + " " + deployment + " " + url;
    }

    public static String subscription(String id) {
        return PREFIX + "sub:{" + id + "}";
    }

    public static String key(String keyHash) {
        return PREFIX + "key:{" + keyHash + "}";
    }

    /** A token counter's rate bucket; its quota keys share the hash tag, so the script stays in one slot. */
    public static String limitRate(String counterTag) {
        return PREFIX + "limit:{" + counterTag + "}:rate";
    }

    /** A token counter's quota window, e.g. {@code Monthly:1764547200}, or {@code none} without a quota. */
    public static String limitQuota(String counterTag, String window) {
        return PREFIX + "limit:{" + counterTag + "}:quota:" + window;
    }
}
