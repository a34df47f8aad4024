package io.aigate.subscription;

import io.aigate.redis.ChannelListener;
import io.aigate.redis.RedisSchema;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * {@link RedisSchema#INVALIDATE_CHANNEL}: when the CLI suspends, revokes, rotates or deletes, every instance drops that
 * subscription's cached keys at once. While the channel is lost, invalidations may be missed, so every key cached
 * before is re-checked against Redis when it comes back (see {@link SubscriptionLookup#channelState}); the cache itself
 * is kept. A message that is no subscription id ({@code aigate keys} makes them of {@code a-z 0-9 . _ -}, at most 64)
 * names nothing cached and is dropped before it costs anything.
 */
@Singleton
public class InvalidationChannel implements ChannelListener {

    private static final Logger LOG = Logger.getLogger(InvalidationChannel.class);

    private final SubscriptionLookup lookup;

    public InvalidationChannel(SubscriptionLookup lookup) {
        this.lookup = lookup;
    }

    @Override
    public String channel() {
        return RedisSchema.INVALIDATE_CHANNEL;
    }

    @Override
    public void message(String subscriptionId) {
        if (!subscriptionId(subscriptionId)) {
            LOG.debug("invalidation dropped: not a subscription id");
            return;
        }
        lookup.invalidate(subscriptionId);
        LOG.debugf("subscription %s invalidated", subscriptionId);
    }

    static boolean subscriptionId(String text) {
        if (text == null || text.isEmpty() || text.length() > 64) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!plain && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void subscribed(boolean up) {
        lookup.channelState(up);
    }
}
