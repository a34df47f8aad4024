package io.aigate.backends;

import io.aigate.config.AigateConfig;
import io.aigate.config.StatusRanges;
import java.util.Arrays;
import java.util.Locale;

/**
 * APIM's circuit breaker for one backend: {@code count} failures within {@code interval} trip it, and it rests for
 * {@code trip-duration}; a 429 that says how long to wait rests it exactly that long at once
 * ({@code accept-retry-after}). A resting backend gets no traffic. When its rest ends, one request, the probe, decides:
 * an answer that is not a failure closes the breaker, a failure trips it again. A probe that never reports (its
 * caller vanished with it) frees its slot after the backend's own timeouts, so no backend is left out for good.
 *
 * <p>Asked from every event loop: whether a backend may be used is two volatile reads; only outcomes that change the
 * state take the lock.
 */
public final class CircuitBreaker {

    public enum State {
        CLOSED,
        OPEN,
        HALF_OPEN;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Why a breaker tripped; {@code THROTTLED} is a 429 that said how long, the one rest worth sharing. */
    public enum Why {
        THROTTLED,
        FAILURES,
        PROBE_FAILED,
        FLEET;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A trip: how long the backend now rests, and why. */
    public record Trip(Why why, long restMillis) {}

    /** What a rest heard from the fleet did: rested the backend, or not, and why not. */
    enum FleetVerdict {
        RESTED,
        /** already resting or probing: only its own answers extend or renew a rest */
        RESTING,
        /** it took a fleet rest less than {@code fleet-rest-interval} ago */
        LIMITED,
        /** the breaker is off */
        OFF;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final boolean enabled;
    private final int count;
    private final long intervalMillis;
    private final long tripMillis;
    private final long maxTripMillis;
    private final boolean acceptRetryAfter;
    private final StatusRanges statusRanges;
    private final boolean connectionFailures;
    private final boolean timeouts;
    private final long probeTimeoutMillis;
    private final long fleetIntervalMillis;

    /** 0 while closed; else when the rest ends (epoch ms). */
    private volatile long restUntil;
    /** While half-open: until when the probe that is out holds the slot (0: no probe out). */
    private volatile long probeHeldUntil;

    private final long[] failures;
    private int next;
    private volatile boolean lastRestThrottled;
    /** When the fleet last rested it (epoch ms), or {@code Long.MIN_VALUE / 2}: never. */
    private long lastFleetRest = Long.MIN_VALUE / 2;

    CircuitBreaker(
            AigateConfig.CircuitBreaker config, StatusRanges statusRanges, boolean enabled, long probeTimeoutMillis) {
        this.enabled = enabled;
        this.count = Math.max(1, config.failureCondition().count());
        this.intervalMillis = config.failureCondition().interval().toMillis();
        this.maxTripMillis = config.maxTripDuration().toMillis();
        this.tripMillis = Math.min(config.tripDuration().toMillis(), maxTripMillis);
        this.acceptRetryAfter = config.acceptRetryAfter();
        this.statusRanges = statusRanges;
        this.connectionFailures = config.failureCondition().errorReasons().contains("connection-failure");
        this.timeouts = config.failureCondition().errorReasons().contains("timeout");
        this.probeTimeoutMillis = probeTimeoutMillis;
        this.fleetIntervalMillis = config.fleetRestInterval().toMillis();
        this.failures = new long[count];
    }

    public boolean enabled() {
        return enabled;
    }

    public State state(long now) {
        long until = restUntil;
        return until == 0 ? State.CLOSED : now < until ? State.OPEN : State.HALF_OPEN;
    }

    /** Whether a request could go to this backend now (without taking the probe slot). */
    boolean available(long now) {
        long until = restUntil;
        return until == 0 || (now >= until && now >= probeHeldUntil);
    }

    /** When the current rest ends (epoch ms), or 0 while closed. */
    long restUntil() {
        return restUntil;
    }

    /** Whether the rest going on came from a 429 (so the caller is told 429 rather than 503). */
    boolean restIsThrottling() {
        return lastRestThrottled;
    }

    /** Takes the backend for one request: always while closed; once rested, only as the one probe. */
    boolean tryAcquire(long now) {
        long until = restUntil;
        if (until == 0) {
            return true;
        }
        if (now < until) {
            return false;
        }
        synchronized (this) {
            if (restUntil == 0) {
                return true;
            }
            if (now < restUntil || now < probeHeldUntil) {
                return false;
            }
            probeHeldUntil = now + probeTimeoutMillis;
            return true;
        }
    }

    /** Whether an answer with this status counts as a failure. */
    public boolean isFailure(int status) {
        return statusRanges.contains(status);
    }

    /**
     * The backend answered. @param retryAfterMillis what a 429 asked for ({@link RetryAfter}), or -1
     *
     * @return the trip this caused, or null
     */
    Trip answered(int status, long retryAfterMillis, long now) {
        if (!enabled) {
            return null;
        }
        if (!isFailure(status)) {
            succeeded(now);
            return null;
        }
        if (status == 429 && acceptRetryAfter && retryAfterMillis >= 0) {
            return trip(Why.THROTTLED, Math.min(maxTripMillis, Math.max(1, retryAfterMillis)), now);
        }
        return failed(now);
    }

    /** No answer: the connection failed, or none came in time. @return the trip this caused, or null */
    Trip unanswered(boolean timeout, long now) {
        if (!enabled || !(timeout ? timeouts : connectionFailures)) {
            if (enabled) {
                release();
            }
            return null;
        }
        return failed(now);
    }

    /** The request ended without saying anything of the backend (its caller left): a probe's slot is freed. */
    void release() {
        if (probeHeldUntil != 0) {
            synchronized (this) {
                probeHeldUntil = 0;
            }
        }
    }

    /**
     * Another instance saw this backend throttled. Whoever can publish on the channel is heard here, so a fleet rest
     * only starts on a closed breaker (never extends or renews one: its end is one probe of its own), lasts at most
     * {@code max-trip-duration}, and comes at most once per {@code fleet-rest-interval}.
     */
    synchronized FleetVerdict restFromFleet(long restMillis, long now) {
        if (!enabled) {
            return FleetVerdict.OFF;
        }
        if (restUntil != 0) {
            return FleetVerdict.RESTING;
        }
        if (now - lastFleetRest < fleetIntervalMillis) {
            return FleetVerdict.LIMITED;
        }
        lastFleetRest = now;
        restUntil = now + Math.max(1, Math.min(maxTripMillis, restMillis));
        probeHeldUntil = 0;
        lastRestThrottled = true;
        return FleetVerdict.RESTED;
    }

    /** Closes a rested breaker; an answer to a request sent before the trip (its rest not over) changes nothing. */
    private void succeeded(long now) {
        long until = restUntil;
        if (until == 0 || now < until) {
            return;
        }
        synchronized (this) {
            restUntil = 0;
            probeHeldUntil = 0;
            next = 0;
            Arrays.fill(failures, 0);
        }
    }

    private synchronized Trip failed(long now) {
        if (restUntil != 0) {
            // a failed probe (or a straggler of the requests before the trip) rests it again, from now
            return now >= restUntil ? trip(Why.PROBE_FAILED, tripMillis, now) : null;
        }
        failures[next] = now;
        next = (next + 1) % count;
        long oldest = failures[next]; // the count-th failure before this one, or 0
        if (oldest != 0 && now - oldest <= intervalMillis || count == 1) {
            return trip(Why.FAILURES, tripMillis, now);
        }
        return null;
    }

    private synchronized Trip trip(Why why, long restMillis, long now) {
        restUntil = now + restMillis;
        probeHeldUntil = 0;
        lastRestThrottled = why == Why.THROTTLED;
        next = 0;
        Arrays.fill(failures, 0);
        return new Trip(why, restMillis);
    }
}
