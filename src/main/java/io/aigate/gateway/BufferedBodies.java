package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.JsonBody;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies held across every request in flight, against one bound: the bodies as received and the
 * trees parsed from them (estimated). Bodies are buffered because later layers judge them; without a shared bound,
 * enough callers each sending part of a large body, or bodies whose trees are many times their size, would fill the
 * heap. Beyond it a request is refused with 503 and Retry-After, and the process stays up.
 */
@Singleton
public class BufferedBodies {

    private final long limit;
    private final long maxParsed;
    private final AtomicLong held = new AtomicLong();

    BufferedBodies(AigateConfig.Request request, MeterRegistry registry) {
        this.limit = request.maxBufferedSize().asLongValue();
        this.maxParsed = request.maxParsedSize().asLongValue();
        GatewayMetrics.bufferedBytes(registry, held);
    }

    long maxParsed() {
        return maxParsed;
    }

    /**
     * What this request's body may take once parsed: its tree is held as long as its bytes, so it is taken from the
     * same bound, and given back with them.
     */
    JsonBody.Budget parsing(RequestLifecycle life) {
        return new JsonBody.Budget(maxParsed, life::hold);
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
