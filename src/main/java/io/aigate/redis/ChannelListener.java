package io.aigate.redis;

/**
 * What listens on one Redis pub/sub channel through {@link RedisChannels}: a layer names its channel and hears its
 * messages, and whether it may have missed some.
 */
public interface ChannelListener {

    /** The channel, from {@link RedisSchema}. */
    String channel();

    /**
     * Whether this instance listens at all: a channel nothing here needs is never subscribed, so the sidecars' Redis
     * user need not be granted it.
     */
    default boolean active() {
        return true;
    }

    /** One message's payload; called on an event loop, so it never blocks. */
    void message(String payload);

    /**
     * The channel is subscribed ({@code true}, confirmed by Redis) or lost ({@code false}). Messages published while
     * it was lost are gone: a listener that caches what they would change drops it when the channel comes back.
     */
    default void subscribed(boolean up) {}
}
