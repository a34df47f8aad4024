package io.aigate.pipeline;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * A value kept fresh in the background, so that no request waits on where it comes from: the one refresh-ahead loop
 * for every refreshed value (backend and Redis tokens, Key Vault and file API keys, signing keys, the webhook's
 * certificate). It fetches at start, again when the last fetch says (ahead of an expiry, or at an interval), and after
 * a failure on the {@link Backoff} schedule, never later than the regular interval; a failure keeps the last good
 * value. Its health is what it holds, how many fetches failed in a row, why the last did, and when the next comes, all
 * on one clock.
 *
 * <p>A fetch runs where its {@link Scheduler} runs it: a blocking SDK gets a thread of its own
 * ({@link #onThread(ScheduledExecutorService)}); a non-blocking source runs on Vert.x timers ({@link #onVertx}).
 * Concurrent calls to {@link #refresh()} share one fetch.
 */
public final class Refreshed<T> {

    private static final Logger LOG = Logger.getLogger(Refreshed.class);

    /**
     * A fetch that has not ended by then is abandoned as failed, so a source that never answers (a server that
     * trickles bytes) cannot stop the refreshing, nor hold every caller of {@link #refresh()} waiting.
     */
    public static final long FETCH_DEADLINE_MILLIS = 30_000;

    /** One fetch's value, and how long until the next fetch is due. */
    public record Fetched<T>(T value, long nextInMillis) {}

    /** Where the value comes from. A failed future (or a throw) is a failed fetch. */
    @FunctionalInterface
    public interface Source<T> {
        Future<Fetched<T>> fetch();
    }

    /** Told of every new value (one that differs from the last), where the fetch completed. */
    @FunctionalInterface
    public interface Listener<T> {
        void changed(T previous, T current);
    }

    /** Runs the fetches. */
    public interface Scheduler {
        void after(long delayMillis, Runnable task);
    }

    /** Fetches on {@code executor}'s thread, where a blocking SDK may block. */
    public static Scheduler onThread(ScheduledExecutorService executor) {
        return (delay, task) -> {
            if (!executor.isShutdown()) {
                executor.schedule(task, Math.max(0, delay), TimeUnit.MILLISECONDS);
            }
        };
    }

    /** Fetches from Vert.x timers: the source must not block. */
    public static Scheduler onVertx(Vertx vertx) {
        return (delay, task) -> {
            if (delay <= 0) {
                vertx.runOnContext(v -> task.run());
            } else {
                vertx.setTimer(delay, id -> task.run());
            }
        };
    }

    private final String what;
    private final Source<T> source;
    private final Scheduler scheduler;
    private final Backoff retry;
    private final LongSupplier millis;
    private final Promise<Void> firstAttempt = Promise.promise();
    private Listener<T> listener = (previous, current) -> {};

    private volatile T value;
    private volatile int failures;
    private volatile String lastFailure;
    private volatile long lastFetchAtMillis;
    private volatile long nextAttemptAtMillis;
    /** Its own: a lock on {@code this} would be shared with whoever holds the object. */
    private final Object lock = new Object();

    private Future<T> inFlight;
    /** Only the latest scheduled fetch runs: a refresh asked for in between does not start a second chain. */
    private volatile long chain;

    /**
     * @param what   what the value is, for the log: {@code identity aoai}, {@code signing keys}
     * @param retry  the schedule after failures; its maximum should not exceed the regular interval
     * @param millis the clock every time here is read from
     */
    public Refreshed(String what, Source<T> source, Scheduler scheduler, Backoff retry, LongSupplier millis) {
        this.what = what;
        this.source = source;
        this.scheduler = scheduler;
        this.retry = retry;
        this.millis = millis;
    }

    /** Told of each new value. Set before {@link #start()}. */
    public Refreshed<T> onChange(Listener<T> changed) {
        this.listener = changed;
        return this;
    }

    /** The first fetch, at once; the rest follow by themselves. */
    public Refreshed<T> start() {
        scheduler.after(0, () -> refresh().onComplete(done -> {}));
        return this;
    }

    /** Starts from a value already had (read at start-up), and fetches again in {@code nextInMillis}. */
    public Refreshed<T> start(T first, long nextInMillis) {
        value = Objects.requireNonNull(first);
        lastFetchAtMillis = millis.getAsLong();
        firstAttempt.tryComplete();
        schedule(nextInMillis);
        return this;
    }

    /** The last good value, or null while none was ever fetched. */
    public T value() {
        return value;
    }

    /** Complete once the first fetch has ended, either way. */
    public Future<Void> firstAttempt() {
        return firstAttempt.future();
    }

    /**
     * Whether {@code pending} (a fetch, the first attempt) succeeded within {@code millis}: the one bounded wait a
     * request makes on a refreshed value. Told on the caller's event loop, as the fetch completes on the refresher's
     * thread and the timeout on Netty's, and a waiting request may only be touched from its own; never failed.
     */
    public static Future<Boolean> within(Future<?> pending, long millis) {
        Context caller = Vertx.currentContext();
        Promise<Boolean> told = Promise.promise();
        pending.timeout(millis, TimeUnit.MILLISECONDS).onComplete(done -> {
            if (caller == null) {
                told.complete(done.succeeded());
            } else {
                caller.runOnContext(v -> told.complete(done.succeeded()));
            }
        });
        return told.future();
    }

    public int failures() {
        return failures;
    }

    /** Why the last fetch failed (the exception's simple name), or null when it did not. */
    public String lastFailure() {
        return lastFailure;
    }

    public long lastFetchAtMillis() {
        return lastFetchAtMillis;
    }

    public long nextAttemptAtMillis() {
        return nextAttemptAtMillis;
    }

    /**
     * Fetches now (joining a fetch under way) and schedules the next one. Completes with the value fetched, or fails
     * with why it could not be (the last good value stays).
     */
    public Future<T> refresh() {
        synchronized (lock) {
            return refreshHoldingTheLock();
        }
    }

    private Future<T> refreshHoldingTheLock() {
        if (inFlight != null) {
            return inFlight;
        }
        lastFetchAtMillis = millis.getAsLong();
        Promise<T> done = Promise.promise();
        inFlight = done.future();
        Future<Fetched<T>> fetched;
        try {
            fetched = Objects.requireNonNull(source.fetch(), "no fetch");
        } catch (RuntimeException | Error e) {
            fetched = Future.failedFuture(e);
        }
        if (!fetched.isComplete()) {
            scheduler.after(
                    FETCH_DEADLINE_MILLIS,
                    () -> ended(
                            done,
                            Future.failedFuture(new java.util.concurrent.TimeoutException(
                                    "no answer in " + FETCH_DEADLINE_MILLIS + " ms"))));
        }
        fetched.onComplete(result -> ended(done, result));
        return done.future();
    }

    /** The fetch ended (or was abandoned): the first of the two counts, the other is ignored. */
    private void ended(Promise<T> done, io.vertx.core.AsyncResult<Fetched<T>> result) {
        synchronized (lock) {
            if (inFlight != done.future()) {
                return;
            }
            inFlight = null;
        }
        boolean got =
                result.succeeded() && result.result() != null && result.result().value() != null;
        Throwable why = got ? null : result.failed() ? result.cause() : new IllegalStateException("nothing fetched");
        try {
            if (got) {
                succeeded(result.result());
            } else {
                failed(why);
            }
        } finally {
            if (got) {
                done.tryComplete(result.result().value());
            } else {
                done.tryFail(why);
            }
            firstAttempt.tryComplete();
        }
    }

    private void succeeded(Fetched<T> fetched) {
        T previous = value;
        value = fetched.value();
        if (failures > 0) {
            LOG.infof("%s: fetched again after %d failed attempts", what, failures);
        }
        failures = 0;
        lastFailure = null;
        // never spin: a source that hands back the same expiring value is asked again only after a pause
        schedule(Math.max(retry.initialMillis(), fetched.nextInMillis()));
        if (!fetched.value().equals(previous)) {
            try {
                listener.changed(previous, fetched.value());
            } catch (RuntimeException e) {
                // a listener's failure is its own: the value is had, and the refreshing goes on
                LOG.errorf("%s: a listener failed on the new value (%s)", what, Errors.describe(e));
            }
        }
    }

    private void failed(Throwable cause) {
        int failed = ++failures;
        lastFailure = cause.getClass().getSimpleName();
        long delay = retry.delayAfter(failed);
        LOG.warnf(
                "%s: fetch failed (%s); %s; retrying in %d ms",
                what,
                Errors.describe(cause),
                value != null ? "the last good value stays in use" : "nothing to serve yet",
                delay);
        schedule(delay);
    }

    private void schedule(long delayMillis) {
        long mine;
        synchronized (lock) {
            nextAttemptAtMillis = millis.getAsLong() + delayMillis;
            mine = ++chain;
        }
        scheduler.after(delayMillis, () -> {
            if (chain == mine) {
                refresh().onComplete(done -> {});
            }
        });
    }
}
