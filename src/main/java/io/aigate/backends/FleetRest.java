package io.aigate.backends;

import io.aigate.config.AigateConfig;
import io.aigate.redis.Authenticated;
import io.aigate.redis.ChannelListener;
import io.aigate.redis.RedisSchema;
import io.micrometer.core.instrument.Counter;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * A throttled deployment rests for the whole fleet, not only for the instance that saw the 429 (APIM's breakers are
 * per gateway instance). The instance that tripped publishes {@code <instance> <sent at, epoch ms> <milliseconds>
 * <deployment> <backend url>} on {@link RedisSchema#BACKEND_REST_CHANNEL}, fire and forget; every other one rests that
 * deployment of its members with that URL for what is left of the wait. Nothing waits on Redis: a request never makes
 * a Redis call for this, and a lost message only costs a 429 the backend itself then gives. Only 429s are shared: a
 * failed connection may be one pod's network, not the backend's.
 *
 * <p>Every sidecar may publish here, so a message is a hint from a peer that may be hostile: one of the wrong shape
 * (an instance that is no UUID, a time in the future or out of range, a wait of none or over a day, a deployment name
 * no route could have, a URL that is no URL) is dropped and counted; a valid one rests only a deployment this instance
 * already serves, at most {@code max-trip-duration}, ended by one probe, and at most once per
 * {@code fleet-rest-interval} ({@link CircuitBreaker#restFromFleet}). Meter:
 * {@code aigate_backend_fleet_messages_total{outcome}}: {@code rested}, {@code limited} (a deployment that took a
 * fleet rest within the interval), {@code ignored} (not served here, already resting, or over), {@code malformed}.
 */
@Singleton
public class FleetRest implements ChannelListener {

    private static final Logger LOG = Logger.getLogger(FleetRest.class);
    private static final int MAX_PAYLOAD = 2048;
    /** A message sent later than this ahead of this instance's clock is a lie, not clock skew. */
    static final long MAX_AHEAD_MILLIS = 5_000;
    /** No rest longer than a day is read as one (as {@link RetryAfter} reads a backend's). */
    private static final long MAX_REST_MILLIS = 86_400_000L;

    /** What a message did here. */
    public enum Heard {
        RESTED,
        LIMITED,
        IGNORED,
        /** no member here has that URL and deployment */
        UNKNOWN,
        MALFORMED;

        String tag() {
            return this == UNKNOWN ? "ignored" : name().toLowerCase(Locale.ROOT);
        }
    }

    /** Who acts on a rest: the backend URL, the deployment key and how long is left of the rest. */
    interface Receiver {
        Heard rest(String url, String deployment, long restMillis);
    }

    private final String instance = UUID.randomUUID().toString();
    private final Redis redis;
    private final Clock clock;
    private final boolean active;
    private final Map<Heard, Counter> heard = new EnumMap<>(Heard.class);
    private volatile Receiver receiver = (url, deployment, millis) -> Heard.UNKNOWN;
    private volatile boolean listening;

    FleetRest(@Authenticated Redis redis, AigateConfig config, Clock clock, BackendMetrics metrics) {
        this.redis = redis;
        this.clock = clock;
        this.active = config.backends().entrySet().stream()
                .anyMatch(e -> BackendPools.breakerEnabled(config, e.getKey())
                        && e.getValue().circuitBreaker().shareRest());
        for (Heard outcome : Heard.values()) {
            heard.put(outcome, metrics.fleetMessages(outcome.tag()));
        }
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

    void receiver(Receiver receiver) {
        this.receiver = receiver;
    }

    /** Tells the fleet; never waits, and a failure only means the others learn from the backend itself. */
    void publish(String backendUrl, String deployment, long restMillis, long now) {
        if (!active) {
            return;
        }
        redis.send(Request.cmd(Command.PUBLISH)
                        .arg(RedisSchema.BACKEND_REST_CHANNEL)
                        .arg(RedisSchema.backendRest(instance, now, restMillis, deployment, backendUrl)))
                .onFailure(err -> LOG.debugf("backend rest not shared: %s", err.getMessage()));
    }

    @Override
    public void message(String payload) {
        Heard outcome = read(payload);
        if (outcome != null) {
            heard.get(outcome).increment();
        }
    }

    /** @return what the message did, or null for this instance's own */
    private Heard read(String payload) {
        if (payload == null || payload.length() > MAX_PAYLOAD) {
            return Heard.MALFORMED;
        }
        String[] parts = payload.split(" ", -1);
        if (parts.length != 5) {
            return Heard.MALFORMED;
        }
        if (parts[0].equals(instance)) {
            return null;
        }
        long now = clock.millis();
        long sentAt = RetryAfter.digits(parts[1]);
        long rest = RetryAfter.digits(parts[2]);
        if (!uuid(parts[0])
                || sentAt < 0
                || sentAt > now + MAX_AHEAD_MILLIS
                || rest < 1
                || rest > MAX_REST_MILLIS
                || !(parts[3].equals(DeploymentBreakers.NONE) || AigateConfig.Route.isDeploymentName(parts[3]))
                || !url(parts[4])) {
            return Heard.MALFORMED;
        }
        long left = Math.min(rest, sentAt + rest - now);
        if (left <= 0) {
            return Heard.IGNORED; // over already
        }
        return receiver.rest(parts[4], parts[3].toLowerCase(Locale.ROOT), left);
    }

    private static boolean uuid(String text) {
        try {
            return text.length() == 36 && UUID.fromString(text).toString().equals(text);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean url(String text) {
        return (text.startsWith("https://") || text.startsWith("http://")) && text.length() > 8;
    }
}
