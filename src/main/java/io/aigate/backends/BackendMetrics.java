package io.aigate.backends;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.ToDoubleFunction;

/**
 * Every meter of the backend pools, declared here alone: {@code aigate_backend_state{backend,state}},
 * {@code aigate_backend_trips_total{backend,why}}, {@code aigate_backend_retries_total{route,backend,why}},
 * {@code aigate_backend_unavailable_total{route,why}} and {@code aigate_backend_fleet_messages_total{outcome}}. Tags
 * come from configuration and fixed sets only. A counter is looked up once per tag combination.
 */
@Singleton
final class BackendMetrics {

    private final MeterRegistry registry;
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();

    BackendMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** 1 for the state a backend's breaker is in, for each state. */
    <T> void state(String backend, String state, T breakers, ToDoubleFunction<T> isIn) {
        Gauge.builder("aigate.backend.state", breakers, isIn)
                .description("1 for the state the backend's circuit breaker is in (its most rested deployment's)")
                .tags("backend", backend, "state", state)
                .register(registry);
    }

    void tripped(String backend, String why) {
        counter("aigate.backend.trips", "Circuit-breaker trips, by why", "backend", backend, "why", why)
                .increment();
    }

    void retried(String route, String backend, String why) {
        counter(
                        "aigate.backend.retries",
                        "Attempts given up for another pool member, by why",
                        "route",
                        route,
                        "backend",
                        backend,
                        "why",
                        why)
                .increment();
    }

    void unavailable(String route, String why) {
        counter("aigate.backend.unavailable", "Requests no pool member could take", "route", route, "why", why)
                .increment();
    }

    /** The counter for messages heard on the backend-rest channel with this outcome. */
    Counter fleetMessages(String outcome) {
        return counter(
                "aigate.backend.fleet.messages",
                "Messages heard on the backend-rest channel, by what they did",
                "outcome",
                outcome);
    }

    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(
                name + '|' + String.join("|", tags),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }
}
