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
 * aigate:v1:limit:{&lt;counter&gt;}                                   the counter FCALL names (never stored)
 * aigate:v1:limit:{&lt;counter&gt;}:rate:&lt;secret&gt;                      HASH  a counter's leaky bucket
 * aigate:v1:limit:{&lt;counter&gt;}:quota:&lt;period&gt;:&lt;start&gt;:&lt;secret&gt;  HASH  tokens used in one quota window
 * </pre>
 *
 * Budget keys are written only by the function library ({@link RedisFunctions}), which alone knows the installation's
 * secret their names end in; a sidecar's user may write no other key.
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

    /** The key a token counter's function call names: its budget keys share its hash tag, so one call is one slot. */
    public static String limit(String counterTag) {
        return PREFIX + "limit:{" + counterTag + "}";
    }

    /** A token counter's rate bucket, as the function library stores it under an installation's secret. */
    public static String limitRate(String counterTag, String secret) {
        return limit(counterTag) + ":rate:" + secret;
    }

    /**
     * A token counter's quota window, e.g. {@code Monthly:1764547200}, or {@code none} without a quota: the window's
     * name; the function library stores it with {@code :<secret>} appended.
     */
    public static String limitQuota(String counterTag, String window) {
        return limit(counterTag) + ":quota:" + window;
    }
}
