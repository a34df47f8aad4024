package io.aigate.gateway;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import java.util.concurrent.TimeoutException;

/**
 * A backend's {@code timeout} once its answer has begun: an answer that goes silent for that long is cut. Until the
 * headers the request's own timeout watches (Vert.x cancels it when they arrive). It is measured from this answer's
 * last chunk, never from the connection's: a reader-idle timeout on a kept-alive connection counts from whatever was
 * read last, so a connection reused after a quiet spell would cut the next request short of its whole timeout.
 *
 * <p>One timer per answer, moved on only when it fires (a chunk just notes the time), as Vert.x's own request timeout
 * does.
 */
final class AnswerSilence implements Handler<Long> {

    private final Vertx vertx;
    private final HttpClientResponse answer;
    private final long timeoutNanos;
    private long heardAt;
    private long timer;
    private boolean over;

    private AnswerSilence(Vertx vertx, HttpClientResponse answer, long timeoutMillis) {
        this.vertx = vertx;
        this.answer = answer;
        this.timeoutNanos = timeoutMillis * 1_000_000L;
        this.heardAt = System.nanoTime();
        this.timer = vertx.setTimer(timeoutMillis, this);
    }

    /** Starts watching an answer whose headers just arrived; call on its event loop. */
    static AnswerSilence watch(HttpClientResponse answer, long timeoutMillis) {
        return new AnswerSilence(Vertx.currentContext().owner(), answer, timeoutMillis);
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
        // fails the answer as the backend's (its exception handler), and the connection is closed, not reused
        answer.request()
                .reset(
                        0,
                        new TimeoutException(
                                "the answer was silent for " + timeoutNanos / 1_000_000L + " ms after it began"));
    }
}
