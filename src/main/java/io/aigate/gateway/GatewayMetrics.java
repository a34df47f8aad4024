package io.aigate.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Data-path metrics. Tags come only from configuration (route, backend) and the status code, so cardinality is fixed
 * by the operator, never by callers. Meters are looked up once per tag combination, not built per request.
 */
@Singleton
public class GatewayMetrics {

    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofMillis(1),
        Duration.ofMillis(5),
        Duration.ofMillis(25),
        Duration.ofMillis(100),
        Duration.ofMillis(500),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        Duration.ofSeconds(120)
    };
    private static final Duration[] OVERHEAD_BUCKETS = {
        Duration.ofNanos(100_000),
        Duration.ofNanos(250_000),
        Duration.ofNanos(500_000),
        Duration.ofMillis(1),
        Duration.ofMillis(2),
        Duration.ofMillis(5),
        Duration.ofMillis(10)
    };

    private final MeterRegistry registry;
    /** By route, then backend, then status: looked up without building a key per request. */
    private final ConcurrentMap<String, ConcurrentMap<String, Timer[]>> requests = new ConcurrentHashMap<>();

    private final ConcurrentMap<String, Timer> overhead = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> cut = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> notRelayed = new ConcurrentHashMap<>();

    GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A finished request: from its first byte to the last byte of the answer. */
    void request(String route, String backend, int status, long elapsedNanos) {
        Timer[] byStatus = requests.computeIfAbsent(route, r -> new ConcurrentHashMap<>())
                .computeIfAbsent(backend, b -> new Timer[600]);
        int index = status >= 100 && status < 600 ? status : 0;
        Timer timer = byStatus[index];
        if (timer == null) {
            // a race here registers the same meter twice, which Micrometer answers with the one already registered
            timer = Timer.builder("aigate.requests")
                    .description("Requests through the data path, by route, backend and status")
                    .tag("route", route)
                    .tag("backend", backend)
                    .tag("status", Integer.toString(status))
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry);
            byStatus[index] = timer;
        }
        timer.record(elapsedNanos, TimeUnit.NANOSECONDS);
    }

    /** Time aigate itself spent on a forwarded request: body received to request sent, headers received to relayed. */
    void overhead(String route, long nanos) {
        overhead.computeIfAbsent(
                        route,
                        k -> Timer.builder("aigate.overhead")
                                .description("Time added by aigate, excluding the wait for the backend")
                                .tag("route", route)
                                .serviceLevelObjectives(OVERHEAD_BUCKETS)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A response that ended early: the backend failed or went silent mid-stream, or the caller left. */
    void cut(String route, String backend, String why) {
        cut.computeIfAbsent(
                        route + '\n' + backend + '\n' + why,
                        k -> Counter.builder("aigate.responses.cut")
                                .description("Responses that ended before the backend finished")
                                .tag("route", route)
                                .tag("backend", backend)
                                .tag("why", why)
                                .register(registry))
                .increment();
    }

    /**
     * A backend answer aigate refused to relay (the caller got 502).
     *
     * @param why {@code redirect} or {@code invalid_status}: the refusal's reason without its prefix
     */
    void notRelayed(String route, String backend, String why) {
        notRelayed
                .computeIfAbsent(
                        route + '\n' + backend + '\n' + why,
                        k -> Counter.builder("aigate.backend.answers.refused")
                                .description("Backend answers never relayed to the caller (redirects, statuses that "
                                        + "are no final answer)")
                                .tag("route", route)
                                .tag("backend", backend)
                                .tag("why", why)
                                .register(registry))
                .increment();
    }
}
