package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies held across every request in flight, against one bound. Bodies are buffered because
 * later layers judge them; without a shared bound, enough callers each sending part of a large body would fill the
 * heap. Beyond it a request is refused with 503 and Retry-After, and the process stays up.
 */
@Singleton
public class BufferedBodies {

    private final long limit;
    private final AtomicLong held = new AtomicLong();

    BufferedBodies(AigateConfig config, MeterRegistry registry) {
        this.limit = config.request().maxBufferedSize().asLongValue();
        Gauge.builder("aigate.request.buffered.bytes", held, AtomicLong::get)
                .description("Request body bytes held by requests in flight")
                .register(registry);
    }

    /** Takes {@code bytes} of the bound, or nothing and false when they do not fit. */
    boolean take(long bytes) {
        long now;
        do {
            now = held.get();
            if (now + bytes > limit) {
                return false;
            }
        } while (!held.compareAndSet(now, now + bytes));
        return true;
    }

    void give(long bytes) {
        if (bytes > 0) {
            held.addAndGet(-bytes);
        }
    }
}
