package io.aigate.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;

/**
 * Waits for something another thread or process brings about (a pub/sub message handled, a process ready, a metric
 * scraped), polling until it holds or the bound passes. Time that must pass for aigate's own decisions is not waited
 * for: tests move the {@link TestClock} instead.
 */
public final class Await {

    /** A condition that may do I/O to find out. */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    /** A value that may take I/O to read. */
    @FunctionalInterface
    public interface Reading<T> {
        T read() throws Exception;
    }

    private static final long POLL_MILLIS = 20;

    private Await() {}

    /** @return how long it took */
    public static Duration until(String what, Duration within, Condition condition) throws Exception {
        long start = System.nanoTime();
        long deadline = start + within.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                fail(what + ": not within " + within);
            }
            // the one poll interval of the suite: short enough not to slow a test, long enough not to busy a core
            Thread.sleep(POLL_MILLIS);
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /** Polls until {@code read} gives {@code expected}; fails with both values when it does not within the bound. */
    public static <T> void equal(String message, Duration within, T expected, Reading<T> read) throws Exception {
        Object[] last = new Object[1];
        try {
            until(message, within, () -> java.util.Objects.equals(expected, last[0] = read.read()));
        } catch (AssertionError notYet) {
            assertEquals(expected, last[0], message);
        }
    }

    /** Polls until {@code read} gives something (not null), and returns it. */
    public static <T> T value(String what, Duration within, Reading<T> read) throws Exception {
        Object[] last = new Object[1];
        until(what, within, () -> (last[0] = read.read()) != null);
        @SuppressWarnings("unchecked")
        T found = (T) last[0];
        return found;
    }
}
