package io.aigate.testing;

import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The clock aigate reads in tests. In {@code @QuarkusTest}s it replaces the system clock that {@code Clocks} produces
 * by default: the system's time, until a test moves it on. A test that needs a cooldown, a cache lifetime or an expiry
 * to pass calls {@link #advance} instead of sleeping through it. {@link #at} gives one that stands still at a chosen
 * instant, for tests of quota windows and buckets that must roll exactly when the test says.
 */
@Singleton
public class TestClock extends Clock {

    private final AtomicLong offsetMillis = new AtomicLong();
    /** Null while the clock follows the system's. */
    private volatile Instant fixed;

    /** A clock that stands at {@code start} until moved. */
    public static TestClock at(Instant start) {
        TestClock clock = new TestClock();
        clock.set(start);
        return clock;
    }

    /** Stands the clock at {@code instant}. */
    public void set(Instant instant) {
        offsetMillis.set(0);
        fixed = instant;
    }

    /** Lets {@code time} pass for everything aigate decides by this clock. */
    public void advance(Duration time) {
        offsetMillis.addAndGet(time.toMillis());
    }

    @Override
    public long millis() {
        Instant at = fixed;
        return (at == null ? System.currentTimeMillis() : at.toEpochMilli()) + offsetMillis.get();
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
