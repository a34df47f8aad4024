package io.aigate.gateway;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * Runs one phase over the policies' instances, one after the other: each starts when the one before has completed, on
 * the same stack while they complete at once (most do: a cached key, a verified token), composing only where one
 * waits. Both sections use it, the {@code <inbound>} forward and the {@code <outbound>} in reverse.
 */
final class Phases {

    private Phases() {}

    /**
     * Runs {@code step(0)}, {@code step(1)}, … up to {@code count - 1} while {@code goesOn} says so of each result; a
     * step that throws (or answers nothing) has failed, which fails closed in {@code <inbound>}.
     *
     * @return the result that stopped the run, or {@code last} once every step went on
     */
    static <T> Future<T> run(int count, IntFunction<Future<T>> step, Predicate<AsyncResult<T>> goesOn, Future<T> last) {
        return run(0, count, step, goesOn, last);
    }

    private static <T> Future<T> run(
            int from, int count, IntFunction<Future<T>> step, Predicate<AsyncResult<T>> goesOn, Future<T> last) {
        for (int i = from; i < count; i++) {
            Future<T> result;
            try {
                result = Objects.requireNonNull(step.apply(i), "a phase answered nothing");
            } catch (RuntimeException e) {
                result = Future.failedFuture(e);
            }
            if (!result.isComplete()) {
                int next = i + 1;
                Future<T> waited = result;
                return result.transform(done -> goesOn.test(done) ? run(next, count, step, goesOn, last) : waited);
            }
            if (!goesOn.test(result)) {
                return result;
            }
        }
        return last;
    }
}
