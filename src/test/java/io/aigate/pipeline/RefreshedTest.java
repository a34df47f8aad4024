package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one refresh loop, on a scheduler and a clock the test moves: no thread, no sleep. */
class RefreshedTest {

    /** Tasks in the order they fall due; the test runs them by moving the clock. */
    static final class ManualScheduler implements Refreshed.Scheduler {
        long now;
        final List<long[]> due = new ArrayList<>();
        final List<Runnable> tasks = new ArrayList<>();

        @Override
        public void after(long delayMillis, Runnable task) {
            due.add(new long[] {now + delayMillis});
            tasks.add(task);
        }

        /** Moves to the earliest task, runs it, and says when it was due. */
        long runNext() {
            int first = 0;
            for (int i = 1; i < due.size(); i++) {
                if (due.get(i)[0] < due.get(first)[0]) {
                    first = i;
                }
            }
            now = Math.max(now, due.remove(first)[0]);
            tasks.remove(first).run();
            return now;
        }

        int pending() {
            return tasks.size();
        }
    }

    final ManualScheduler scheduler = new ManualScheduler();
    /** What each fetch will do: a value, or null to fail. Then the fetches made. */
    final Deque<String> answers = new ArrayDeque<>();

    int fetches;

    Refreshed<String> refreshed(Refreshed.Source<String> source) {
        return new Refreshed<>("test value", source, scheduler, new Backoff(100, 1_000), () -> scheduler.now);
    }

    /** Fetches the test ends by hand, in the order they were made. */
    final List<Promise<Refreshed.Fetched<String>>> open = new ArrayList<>();

    Future<Refreshed.Fetched<String>> pending() {
        fetches++;
        Promise<Refreshed.Fetched<String>> p = Promise.promise();
        open.add(p);
        return p.future();
    }

    Future<Refreshed.Fetched<String>> next() {
        fetches++;
        String answer = answers.poll();
        return answer == null
                ? Future.failedFuture(new IllegalStateException("source down"))
                : Future.succeededFuture(new Refreshed.Fetched<>(answer, 5_000));
    }

    @Test
    void fetchesAtStartThenWhenTheValueSaysAndKeepsTheLastGoodValueThroughFailures() {
        List<String> changes = new ArrayList<>();
        Refreshed<String> value = refreshed(this::next).onChange((previous, current) -> changes.add(current));
        answers.add("v1");
        value.start();
        assertNull(value.value());
        assertFalse(value.firstAttempt().isComplete());
        assertEquals(0, scheduler.runNext());
        assertEquals("v1", value.value());
        assertTrue(value.firstAttempt().isComplete());
        assertEquals(5_000, value.nextAttemptAtMillis(), "the next fetch is when the value said");

        // the source fails: the value stays, retries back off 100, 200, 400 … never past the maximum
        assertEquals(5_000, scheduler.runNext());
        assertEquals("v1", value.value());
        assertEquals(1, value.failures());
        assertEquals("IllegalStateException", value.lastFailure());
        assertEquals(5_100, scheduler.runNext());
        assertEquals(5_300, scheduler.runNext());
        assertEquals(5_700, scheduler.runNext());
        assertEquals(6_500, scheduler.runNext());
        assertEquals(7_500, scheduler.runNext(), "capped at the maximum");
        assertEquals("v1", value.value());

        answers.add("v2");
        assertEquals(8_500, scheduler.runNext());
        assertEquals("v2", value.value());
        assertEquals(0, value.failures());
        assertNull(value.lastFailure());
        assertEquals(List.of("v1", "v2"), changes, "told of each new value once");
        assertEquals(1, scheduler.pending(), "one chain of fetches, never two");
    }

    @Test
    void aRefreshAskedForJoinsTheFetchUnderWayAndDoesNotStartASecondChain() {
        Refreshed<String> value = refreshed(this::pending);
        Future<String> first = value.refresh();
        Future<String> second = value.refresh();
        assertSame(first, second, "one fetch for both");
        assertEquals(1, fetches);
        open.get(0).complete(new Refreshed.Fetched<>("k1", 60_000));
        assertEquals("k1", first.result());

        scheduler.now = 10_000;
        Future<String> asked = value.refresh(); // an unknown key, say: fetched now
        open.get(1).complete(new Refreshed.Fetched<>("k2", 60_000));
        assertEquals("k2", asked.result());
        assertEquals(10_000, value.lastFetchAtMillis());
        // the timer set by the first fetch falls due, but only the latest chain fetches
        long at = 0;
        while (at < 70_000) {
            assertEquals(2, fetches, "the superseded timer (and the ended fetches' deadlines) did nothing, at " + at);
            at = scheduler.runNext();
        }
        assertEquals(70_000, at);
        assertEquals(3, fetches);
    }

    @Test
    void aSourceThatThrowsIsAFailedFetchAndAStartFromAValueWaitsItsInterval() {
        Refreshed<String> value = refreshed(() -> {
            throw new IllegalStateException("broken");
        });
        value.start("seed", 30_000);
        assertEquals("seed", value.value());
        assertTrue(value.firstAttempt().isComplete());
        assertEquals(30_000, scheduler.runNext());
        assertEquals("seed", value.value(), "a throw keeps the value");
        assertEquals(1, value.failures());
        assertEquals(30_100, scheduler.runNext());
    }

    @Test
    void aListenerThatThrowsNeitherLosesTheValueNorStopsTheLoop() {
        answers.add("v1");
        Refreshed<String> value = refreshed(this::next).onChange((previous, current) -> {
            throw new IllegalStateException("listener broke");
        });
        value.start();
        scheduler.runNext();
        assertEquals("v1", value.value());
        assertTrue(value.firstAttempt().isComplete(), "a cold start's waiters are let go");
        assertEquals(1, scheduler.pending(), "the next fetch is scheduled");
        assertEquals(0, value.failures());
    }

    @Test
    void aFetchThatNeverEndsIsAbandonedAtItsDeadlineAndItsLateAnswerIgnored() {
        Refreshed<String> value = refreshed(this::pending);
        value.start();
        scheduler.runNext();
        Future<String> waiting = value.refresh();
        for (int i = 0; i < 5; i++) {
            assertSame(waiting, value.refresh(), "callers join the one fetch");
        }
        assertEquals(Refreshed.FETCH_DEADLINE_MILLIS, scheduler.runNext(), "abandoned at its deadline");
        assertTrue(waiting.failed(), "its callers are let go");
        assertEquals(1, value.failures());
        assertEquals("TimeoutException", value.lastFailure());
        assertEquals(Refreshed.FETCH_DEADLINE_MILLIS + 100, scheduler.runNext(), "and retried on the backoff");
        assertEquals(2, fetches);
        open.get(0).complete(new Refreshed.Fetched<>("late", 5_000));
        assertNull(value.value(), "the abandoned fetch's late answer is not taken");
        assertEquals(1, scheduler.pending(), "nor does it start a second chain (only the new fetch's deadline)");
    }
}
