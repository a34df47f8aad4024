package io.aigate.gateway;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeoutException;

/**
 * A backend's {@code timeout} once its answer has begun: an answer that goes silent for that long is cut. Until the
 * headers the request's own timeout watches (Vert.x cancels it when they arrive). It is measured from this answer's
 * last chunk, never from the connection's: a reader-idle timeout on a kept-alive connection counts from whatever was
 * read last, so a connection reused after a quiet spell would cut the next request short of its whole timeout.
 *
 * <p>An answer is also silent when its caller stops reading: the relay stops taking chunks so that nothing piles up in
 * aigate. That silence is the caller's, and so is the cut: its connection is closed (which ends the backend's request
 * too, as when a caller hangs up), and the backend is not blamed for it.
 *
 * <p>One timer per answer, moved on only when it fires (a chunk just notes the time), as Vert.x's own request timeout
 * does.
 */
final class AnswerSilence implements Handler<Long> {

    private final Vertx vertx;
    private final HttpClientResponse answer;
    /** The caller it is relayed to; null for an answer read only to free its connection. */
    private final HttpServerRequest caller;

    private final long timeoutNanos;
    private long heardAt;
    private long timer;
    private boolean over;

    private AnswerSilence(Vertx vertx, HttpClientResponse answer, HttpServerRequest caller, long timeoutMillis) {
        this.vertx = vertx;
        this.answer = answer;
        this.caller = caller;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
        this.heardAt = System.nanoTime();
        this.timer = vertx.setTimer(timeoutMillis, this);
    }

    /**
     * Starts watching an answer whose headers just arrived; call on its event loop.
     *
     * @param caller the request it is relayed to, or null when nobody reads it
     */
    static AnswerSilence watch(HttpClientResponse answer, HttpServerRequest caller, long timeoutMillis) {
        return new AnswerSilence(Vertx.currentContext().owner(), answer, caller, timeoutMillis);
    }

    /** A chunk arrived. */
    void heard() {
        heardAt = System.nanoTime();
    }

    /** The answer ended, or failed: nothing more to watch. */
    void over() {
        if (!over) {
            over = true;
            vertx.cancelTimer(timer);
        }
    }

    @Override
    public void handle(Long fired) {
        if (over) {
            return;
        }
        long quiet = System.nanoTime() - heardAt;
        if (quiet < timeoutNanos) {
            timer = vertx.setTimer(Math.max(1, (timeoutNanos - quiet) / 1_000_000L), this);
            return;
        }
        over = true;
        if (caller != null && caller.response().writeQueueFull()) {
            // the caller's silence: closing it resets the backend's request as a hang-up does, counted as the caller's
            Forwarder.abort(caller);
            return;
        }
        // fails the answer as the backend's (its exception handler), and the connection is closed, not reused
        answer.request()
                .reset(
                        0,
                        new TimeoutException(
                                "the answer was silent for " + timeoutNanos / 1_000_000L + " ms after it began"));
    }
}
