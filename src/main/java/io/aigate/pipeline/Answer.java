package io.aigate.pipeline;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The answer a backend gave, as the {@code <outbound>} section sees it when its head is in: its status and headers,
 * and what the policies ask of its body. A policy may put a filter on the body (to read it, or to rewrite it), or hold
 * the body until complete so that its end can still change the headers the caller receives.
 */
public final class Answer {

    private final int status;
    private final MultiMap headers;
    private final MultiMap callerHeaders;
    private final long declaredLength;
    private UnaryOperator<Buffer> chunk;
    private Supplier<Buffer> tail;
    private boolean rewrites;
    private boolean holdsWhole;

    /**
     * @param headers       the backend's headers, as it sent them
     * @param callerHeaders  the headers the caller will receive (only a held answer's may still change at its end)
     * @param declaredLength its {@code Content-Length} as the gateway reads every one: -1 when absent,
     *                       {@link Long#MAX_VALUE} when not a plain number
     */
    public Answer(int status, MultiMap headers, MultiMap callerHeaders, long declaredLength) {
        this.status = status;
        this.headers = headers;
        this.callerHeaders = callerHeaders;
        this.declaredLength = declaredLength;
    }

    public long declaredLength() {
        return declaredLength;
    }

    public int status() {
        return status;
    }

    public MultiMap headers() {
        return headers;
    }

    public MultiMap callerHeaders() {
        return callerHeaders;
    }

    /**
     * Passes every chunk of the body through {@code each} (after the filters set before it), and appends what
     * {@code last} still holds when the body ends.
     *
     * @param rewrites whether what is relayed may differ from what came, so a declared length no longer holds
     */
    public void filter(UnaryOperator<Buffer> each, Supplier<Buffer> last, boolean rewrites) {
        UnaryOperator<Buffer> before = chunk;
        Supplier<Buffer> beforeTail = tail;
        this.chunk = before == null ? each : c -> each.apply(before.apply(c));
        this.tail =
                beforeTail == null ? last : () -> each.apply(beforeTail.get()).appendBuffer(last.get());
        this.rewrites |= rewrites;
    }

    /** Holds the body until it is complete; the policies' ends run before any of it is relayed. */
    public void holdWhole() {
        this.holdsWhole = true;
    }

    public boolean holdsWhole() {
        return holdsWhole;
    }

    public boolean rewrites() {
        return rewrites;
    }

    /** Every chunk as the caller is to receive it. */
    public UnaryOperator<Buffer> chunk() {
        return chunk == null ? UnaryOperator.identity() : chunk;
    }

    /** What the filters still hold when the body ends. */
    public Supplier<Buffer> tail() {
        return tail == null ? Buffer::buffer : tail;
    }
}
