package io.aigate.gateway;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Data-path metrics. Tags come only from configuration (route, backend), fixed sets and the status code (a defined
 * status, else its class), so cardinality is fixed by the operator, never by callers or backends. Meters are looked up once per tag combination, not built per request.
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

    /** What the request bodies in flight hold, against {@code aigate.request.max-buffered-size}. */
    static void bufferedBytes(MeterRegistry registry, java.util.concurrent.atomic.AtomicLong held) {
        io.micrometer.core.instrument.Gauge.builder(
                        "aigate.request.buffered.bytes", held, java.util.concurrent.atomic.AtomicLong::get)
                .description("Request body bytes held by requests in flight")
                .register(registry);
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
                    .tag("status", index == 0 ? "other" : statusLabel(status))
                    .serviceLevelObjectives(LATENCY_BUCKETS)
                    .register(registry);
            byStatus[index] = timer;
        }
        timer.record(elapsedNanos, TimeUnit.NANOSECONDS);
    }

    /** Statuses HTTP defines (RFC 9110 and the few registered beside it): each is its own label value. */
    private static final Set<Integer> DEFINED = Set.of(
            100, 101, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 307, 308, 400,
            401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424,
            425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511);

    /**
     * A status as a label value, for metrics and spans alike: a defined status is itself; any other number a backend
     * invents is its class ({@code 4xx}), so a backend cannot make a series per number.
     */
    static String statusLabel(int status) {
        if (DEFINED.contains(status)) {
            return Integer.toString(status);
        }
        return status >= 100 && status < 600 ? (status / 100) + "xx" : "other";
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
