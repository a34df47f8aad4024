package io.aigate.tokens;

import io.aigate.config.QuotaPeriod;
import io.aigate.redis.RedisSchema;
import java.time.Instant;

/**
 * One budget: whose it is ({@link #label()}, for metrics and logs), where it lives in Redis, and its limits after the
 * subscription's own and the configured defaults are merged. A limit of 0 means none.
 *
 * <pre>
 * aigate:v1:limit:{&lt;counter&gt;}:rate:&lt;secret&gt;                       HASH  the leaky bucket (l tokens, t last drain ms)
 * aigate:v1:limit:{&lt;counter&gt;}:quota:&lt;period&gt;:&lt;start&gt;:&lt;secret&gt;  HASH  tokens used in the UTC window starting then
 * </pre>
 * The {@code {counter}} hash tag keeps both in one slot of a clustered Redis, so one function call updates both.
 */
public record TokenCounter(String label, String tag, long tokensPerMinute, long tokenQuota, QuotaPeriod period) {

    public boolean limited() {
        return tokensPerMinute > 0 || tokenQuota > 0;
    }

    /** The quota window holding {@code at}: requests settle into the window they were admitted in. */
    String quotaKey(Instant at) {
        if (tokenQuota <= 0) {
            return RedisSchema.limitQuota(tag, "none");
        }
        return RedisSchema.limitQuota(
                tag, period.wire() + ":" + period.windowStart(at).getEpochSecond());
    }
}
