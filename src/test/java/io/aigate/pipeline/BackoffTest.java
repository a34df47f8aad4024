package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void doublesFromTheFirstRetryAndNeverPassesItsCapOrOverflows() {
        Backoff backoff = new Backoff(250, 10_000);
        assertEquals(250, backoff.delayAfter(1));
        assertEquals(500, backoff.delayAfter(2));
        assertEquals(8000, backoff.delayAfter(6));
        assertEquals(10_000, backoff.delayAfter(7));
        assertEquals(10_000, backoff.delayAfter(Integer.MAX_VALUE), "no shift past the sign bit");
        assertEquals(250, backoff.delayAfter(0), "before any failure: the first delay");
        assertEquals(1, new Backoff(0, 0).delayAfter(3), "a zero initial delay never spins");
        assertEquals(
                Long.MAX_VALUE,
                new Backoff(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE).delayAfter(3),
                "an overflowing doubling is capped, never negative");
    }
}
