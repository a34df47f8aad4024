package io.aigate.subscription;

import io.aigate.redis.ChannelListener;
import io.aigate.redis.RedisSchema;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * {@link RedisSchema#INVALIDATE_CHANNEL}: when the CLI suspends, revokes, rotates or deletes, every instance drops that
 * subscription's cached keys at once. While the channel is lost, invalidations may be missed, so the key cache is
 * cleared when it comes back (see {@link SubscriptionLookup#channelState}).
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
        lookup.invalidate(subscriptionId);
        LOG.debugf("subscription %s invalidated", subscriptionId);
    }

    @Override
    public void subscribed(boolean up) {
        lookup.channelState(up);
    }
}
