package io.aigate.backends;

import io.aigate.config.AigateConfig;
import io.aigate.config.BackendUrl;
import io.aigate.config.StatusRanges;
import io.vertx.core.MultiMap;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Which backends may serve a route right now: every backend has one {@link CircuitBreaker} per deployment
 * ({@link DeploymentBreakers}), shared by every pool it is a member of; a route's {@code backend} names a pool or a
 * backend (a pool of one). What each attempt ended with is
 * reported here, trips are counted and logged once each, and a 429's rest is shared with the fleet ({@link FleetRest}).
 *
 * <p>Meters: {@code aigate_backend_state{backend,state}} (1 for the state a backend's most rested deployment is in),
 * {@code aigate_backend_fleet_messages_total{outcome}} (what the rest channel brought, see {@link FleetRest}), {@code
 * aigate_backend_trips_total{backend,why}}, {@code aigate_backend_retries_total{route,backend,why}} (backend: the one
 * that failed the attempt), {@code aigate_backend_unavailable_total{route,why}} (answered by aigate: every member
 * rested).
 */
@Singleton
public class BackendPools {

    private static final Logger LOG = Logger.getLogger(BackendPools.class);

    private final Clock clock;
    private final BackendMetrics metrics;
    private final FleetRest fleet;
    private final Map<String, BackendPool> pools = new HashMap<>();
    private final Map<String, BackendPool.Seat> seats = new HashMap<>();
    private final Map<String, List<BackendPool.Seat>> byUrl = new HashMap<>();

    BackendPools(AigateConfig config, Clock clock, BackendMetrics metrics, FleetRest fleet) {
        this.clock = clock;
        this.metrics = metrics;
        this.fleet = fleet;
        config.backends().forEach((name, backend) -> {
            boolean enabled = breakerEnabled(config, name);
            long probeTimeout =
                    backend.connectTimeout().toMillis() + backend.timeout().toMillis();
            Map<String, String> renames = new HashMap<>();
            backend.deploymentNames().forEach((caller, own) -> renames.put(caller.toLowerCase(Locale.ROOT), own));
            // read once per backend, not once per deployment's breaker
            StatusRanges failing = StatusRanges.read(
                    "aigate.backends." + name + ".circuit-breaker.failure-condition.status-code-ranges",
                    backend.circuitBreaker().failureCondition().statusCodeRanges());
            DeploymentBreakers breakers = new DeploymentBreakers(
                    () -> new CircuitBreaker(backend.circuitBreaker(), failing, enabled, probeTimeout), renames);
            BackendPool.Seat alone = new BackendPool.Seat(
                    name,
                    1,
                    1,
                    breakers,
                    BackendUrl.parse(backend.url().orElseThrow()).fleetId());
            seats.put(name, alone);
            byUrl.computeIfAbsent(alone.fleetId(), u -> new ArrayList<>()).add(alone);
            pools.put(name, new BackendPool(name, List.of(alone)));
            for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
                metrics.state(name, state.tag(), breakers, b -> b.state(clock.millis()) == state ? 1 : 0);
            }
        });
        config.pools().forEach((name, pool) -> {
            List<BackendPool.Seat> list = new ArrayList<>();
            pool.members().forEach((backend, place) -> {
                BackendPool.Seat seat = seats.get(backend);
                list.add(new BackendPool.Seat(
                        backend, place.priority(), place.weight(), seat.breakers(), seat.fleetId()));
            });
            pools.put(name, new BackendPool(name, list));
        });
        fleet.receiver(this::restFromFleet);
    }

    /** A backend's breaker is on when configured so, else when it is a member of a pool. */
    public static boolean breakerEnabled(AigateConfig config, String backend) {
        return config.backends()
                .get(backend)
                .circuitBreaker()
                .enabled()
                .orElseGet(() -> config.pools().values().stream()
                        .anyMatch(pool -> pool.members().containsKey(backend)));
    }

    /** @return the pool a route's {@code backend} names; names are checked at start-up */
    public BackendPool get(String name) {
        return pools.get(name);
    }

    public long now() {
        return clock.millis();
    }

    /** The backend answered (headers in, nothing relayed yet). */
    public void answered(Member member, int status, MultiMap headers) {
        CircuitBreaker breaker = member.breaker();
        if (!breaker.enabled()) {
            return;
        }
        long now = clock.millis();
        long retryAfter = status == 429 ? RetryAfter.millis(headers, now) : -1;
        tripped(member, breaker.answered(status, retryAfter, now));
    }

    /** No answer: no connection ({@code timeout} false) or none in time. */
    public void unanswered(Member member, boolean timeout) {
        tripped(member, member.breaker().unanswered(timeout, clock.millis()));
    }

    /** The attempt ended without a word about the backend (its caller left). */
    public void released(Member member) {
        member.breaker().release();
    }

    /** Every member of the route's pool rests: aigate answered the caller itself. */
    public void unavailable(String route, PoolRefusal refusal) {
        metrics.unavailable(route, refusal.throttled() ? "throttled" : "unavailable");
    }

    /** An attempt failed before the answer's first byte and the request goes to another member. */
    public void retried(String route, Member failed, String why) {
        metrics.retried(route, failed.backend(), why);
    }

    private void tripped(Member member, CircuitBreaker.Trip trip) {
        if (trip == null) {
            return;
        }
        metrics.tripped(member.backend(), trip.why().tag());
        LOG.warnf(
                "backend %s rests deployment %s for %d ms (%s)",
                member.backend(),
                member.deployment(),
                trip.restMillis(),
                trip.why().tag());
        if (trip.why() == CircuitBreaker.Why.THROTTLED) {
            fleet.publish(member.fleetId(), member.deployment(), trip.restMillis(), clock.millis());
        }
    }

    /** A rest heard from the fleet: only deployments this instance already serves, each as its breaker allows. */
    private FleetRest.Heard restFromFleet(String url, String deployment, long millis) {
        List<BackendPool.Seat> resting = byUrl.get(url);
        if (resting == null) {
            return FleetRest.Heard.UNKNOWN; // a backend this instance does not use
        }
        long now = clock.millis();
        FleetRest.Heard heard = FleetRest.Heard.UNKNOWN;
        for (BackendPool.Seat seat : resting) {
            CircuitBreaker breaker = seat.breakers().heard(deployment);
            if (breaker == null) {
                continue; // a deployment this instance has not served: the message never makes a breaker
            }
            CircuitBreaker.FleetVerdict verdict = breaker.restFromFleet(millis, now);
            if (verdict == CircuitBreaker.FleetVerdict.RESTED) {
                heard = FleetRest.Heard.RESTED;
                metrics.tripped(seat.backend(), CircuitBreaker.Why.FLEET.tag());
                LOG.infof(
                        "backend %s rests deployment %s for %d ms: throttled, as another instance saw",
                        seat.backend(), deployment, millis);
            } else if (heard != FleetRest.Heard.RESTED && verdict == CircuitBreaker.FleetVerdict.LIMITED) {
                heard = FleetRest.Heard.LIMITED;
            } else if (heard == FleetRest.Heard.UNKNOWN) {
                heard = FleetRest.Heard.IGNORED;
            }
        }
        return heard;
    }
}
