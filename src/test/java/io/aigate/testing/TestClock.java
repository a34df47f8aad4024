package io.aigate.testing;

import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clock aigate reads in {@code @QuarkusTest}s (it replaces the system clock that {@code Clocks} produces by
 * default): the system's time, until a test moves it on. A test that needs a cooldown, a cache lifetime or an expiry
 * to pass calls {@link #advance} instead of sleeping through it.
 */
@Singleton
public class TestClock extends Clock {

    private final AtomicLong offsetMillis = new AtomicLong();

    /** Lets {@code time} pass for everything aigate decides by this clock. */
    public void advance(Duration time) {
        offsetMillis.addAndGet(time.toMillis());
    }

    @Override
    public long millis() {
        return System.currentTimeMillis() + offsetMillis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
