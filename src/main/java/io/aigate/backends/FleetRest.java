package io.aigate.backends;

import io.aigate.config.AigateConfig;
import io.aigate.redis.Authenticated;
import io.aigate.redis.ChannelListener;
import io.aigate.redis.RedisSchema;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import jakarta.inject.Singleton;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * A throttled backend rests for the whole fleet, not only for the instance that saw the 429 (APIM's breakers are per
 * gateway instance). The instance that tripped publishes {@code <instance> <milliseconds> <backend url>} on
 * {@link RedisSchema#BACKEND_REST_CHANNEL}, fire and forget; every other one rests its members with that URL as long,
 * within their own {@code max-trip-duration}. Nothing waits on Redis: a request never makes a Redis call for this, and
 * a lost message only costs a 429 the backend itself then gives. Only 429s are shared: a failed connection may be one
 * pod's network, not the backend's.
 */
@Singleton
public class FleetRest implements ChannelListener {

    private static final Logger LOG = Logger.getLogger(FleetRest.class);
    private static final int MAX_PAYLOAD = 2048;

    private final String instance = UUID.randomUUID().toString();
    private final Redis redis;
    private final boolean active;
    private volatile BiConsumer<String, Long> receiver = (url, millis) -> {};
    private volatile boolean listening;

    FleetRest(@Authenticated Redis redis, AigateConfig config) {
        this.redis = redis;
        this.active = config.backends().entrySet().stream()
                .anyMatch(e -> BackendPools.breakerEnabled(config, e.getKey())
                        && e.getValue().circuitBreaker().shareRest());
    }

    @Override
    public String channel() {
        return RedisSchema.BACKEND_REST_CHANNEL;
    }

    @Override
    public boolean active() {
        return active;
    }

    @Override
    public void subscribed(boolean up) {
        listening = up;
    }

    /** Whether rests from other instances are heard now (the channel is subscribed). */
    public boolean listening() {
        return listening;
    }

    /** Who hears of rests from other instances: the backend URL and how long it rests. */
    void receiver(BiConsumer<String, Long> receiver) {
        this.receiver = receiver;
    }

    /** Tells the fleet; never waits, and a failure only means the others learn from the backend itself. */
    void publish(String backendUrl, long restMillis) {
        if (!active) {
            return;
        }
        redis.send(Request.cmd(Command.PUBLISH)
                        .arg(RedisSchema.BACKEND_REST_CHANNEL)
                        .arg(instance + " " + restMillis + " " + backendUrl))
                .onFailure(err -> LOG.debugf("backend rest not shared: %s", err.getMessage()));
    }

    /** Anything on the channel is read as untrusted: malformed messages are dropped, waits are bounded later. */
    @Override
    public void message(String payload) {
        if (payload == null || payload.length() > MAX_PAYLOAD) {
            return;
        }
        int first = payload.indexOf(' ');
        int second = first < 0 ? -1 : payload.indexOf(' ', first + 1);
        if (second < 0 || (first == instance.length() && payload.startsWith(instance))) {
            return; // malformed, or this instance's own
        }
        long millis = RetryAfter.wholeNumber(payload.substring(first + 1, second), 1);
        String url = payload.substring(second + 1);
        if (millis > 0 && !url.isEmpty()) {
            receiver.accept(url, millis);
        }
    }
}
