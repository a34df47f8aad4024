package io.aigate.backends;

import io.aigate.config.AigateConfig;
import io.aigate.config.BackendUrl;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.MultiMap;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.jboss.logging.Logger;

/**
 * Which backends may serve a route right now: every backend has one {@link CircuitBreaker}, shared by every pool it is
 * a member of; a route's {@code backend} names a pool or a backend (a pool of one). What each attempt ended with is
 * reported here, trips are counted and logged once each, and a 429's rest is shared with the fleet ({@link FleetRest}).
 *
 * <p>Meters: {@code aigate_backend_state{backend,state}} (1 for the state a backend is in), {@code
 * aigate_backend_trips_total{backend,why}}, {@code aigate_backend_retries_total{route,backend,why}} (backend: the one
 * that failed the attempt), {@code aigate_backend_unavailable_total{route,why}} (answered by aigate: every member
 * rested).
 */
@Singleton
public class BackendPools {

    private static final Logger LOG = Logger.getLogger(BackendPools.class);

    private final Clock clock;
    private final MeterRegistry registry;
    private final FleetRest fleet;
    private final Map<String, BackendPool> pools = new HashMap<>();
    private final Map<String, Member> members = new HashMap<>();
    private final Map<String, List<Member>> byUrl = new HashMap<>();
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

    BackendPools(AigateConfig config, Clock clock, MeterRegistry registry, FleetRest fleet) {
        this.clock = clock;
        this.registry = registry;
        this.fleet = fleet;
        Map<String, CircuitBreaker> breakers = new HashMap<>();
        config.backends().forEach((name, backend) -> {
            CircuitBreaker breaker = new CircuitBreaker(
                    backend.circuitBreaker(),
                    breakerEnabled(config, name),
                    backend.connectTimeout().toMillis() + backend.timeout().toMillis());
            breakers.put(name, breaker);
            Member alone = new Member(
                    name,
                    1,
                    1,
                    breaker,
                    BackendUrl.parse(backend.url().orElseThrow()).fleetId());
            members.put(name, alone);
            byUrl.computeIfAbsent(alone.fleetId(), u -> new ArrayList<>()).add(alone);
            pools.put(name, new BackendPool(name, List.of(alone)));
            for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
                Gauge.builder("aigate.backend.state", breaker, b -> b.state(clock.millis()) == state ? 1 : 0)
                        .description("1 for the state the backend's circuit breaker is in")
                        .tags("backend", name, "state", state.tag())
                        .register(registry);
            }
        });
        config.pools().forEach((name, pool) -> {
            List<Member> list = new ArrayList<>();
            pool.members()
                    .forEach((backend, place) -> list.add(new Member(
                            backend,
                            place.priority(),
                            place.weight(),
                            breakers.get(backend),
                            members.get(backend).fleetId())));
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
        counter("aigate.backend.unavailable", "route", route, "why", refusal.throttled() ? "throttled" : "unavailable")
                .increment();
    }

    /** An attempt failed before the answer's first byte and the request goes to another member. */
    public void retried(String route, Member failed, String why) {
        counter("aigate.backend.retries", "route", route, "backend", failed.backend(), "why", why)
                .increment();
    }

    private void tripped(Member member, CircuitBreaker.Trip trip) {
        if (trip == null) {
            return;
        }
        counter(
                        "aigate.backend.trips",
                        "backend",
                        member.backend(),
                        "why",
                        trip.why().tag())
                .increment();
        LOG.warnf(
                "backend %s rests for %d ms (%s)",
                member.backend(), trip.restMillis(), trip.why().tag());
        if (trip.why() == CircuitBreaker.Why.THROTTLED) {
            fleet.publish(member.fleetId(), trip.restMillis());
        }
    }

    private void restFromFleet(String url, long millis) {
        List<Member> resting = byUrl.get(url);
        if (resting == null) {
            return; // a backend this instance does not use
        }
        long now = clock.millis();
        for (Member member : resting) {
            if (member.breaker().restFromFleet(millis, now)) {
                counter("aigate.backend.trips", "backend", member.backend(), "why", CircuitBreaker.Why.FLEET.tag())
                        .increment();
                LOG.infof("backend %s rests for %d ms: throttled, as another instance saw", member.backend(), millis);
            }
        }
    }

    private Counter counter(String name, String... tags) {
        return counters.computeIfAbsent(
                name + String.join("|", tags),
                k -> Counter.builder(name).tags(tags).register(registry));
    }
}
