package io.aigate.gateway;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A backend's answer as a read stream that passes each chunk through a function on its way (to observe it, or to
 * rewrite it), and may add a tail at the end; the source's back-pressure is kept, so it can stand in a pipe. Each chunk
 * is news for the answer's {@link AnswerSilence}.
 */
final class ObservedStream implements ReadStream<Buffer> {

    private final ReadStream<Buffer> source;
    private final Function<Buffer, Buffer> through;
    private final Supplier<Buffer> tail;
    private final AnswerSilence silence;
    private Handler<Buffer> handler;

    ObservedStream(
            ReadStream<Buffer> source, Function<Buffer, Buffer> through, Supplier<Buffer> tail, AnswerSilence silence) {
        this.source = source;
        this.through = through;
        this.tail = tail;
        this.silence = silence;
    }

    /**
     * A failure of the source (the backend's answer), told apart from a failure to write it on: in a pipe both end
     * the same way, but only one of them is the backend's doing.
     */
    static final class SourceFailure extends RuntimeException {
        SourceFailure(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        source.exceptionHandler(handler == null ? null : err -> handler.handle(new SourceFailure(err)));
        return this;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        this.handler = handler;
        source.handler(
                handler == null
                        ? null
                        : chunk -> {
                            silence.heard();
                            Buffer out = through.apply(chunk);
                            if (out.length() > 0) {
                                handler.handle(out);
                            }
                        });
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        source.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        source.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        source.fetch(amount);
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> endHandler) {
        source.endHandler(
                endHandler == null
                        ? null
                        : v -> {
                            Buffer rest = tail.get();
                            if (rest.length() > 0 && handler != null) {
                                handler.handle(rest);
                            }
                            endHandler.handle(v);
                        });
        return this;
    }
}
