package io.aigate.gateway;

/**
 * The times the {@link Forwarder} saw, for the caller's {@code Server-Timing} (what aigate added, what the backend
 * took) and the GenAI operation duration. Set once a request is sent to a backend.
 */
final class Timing {

    /** When the request's body was complete ({@link System#nanoTime()}), and when the first attempt went out. */
    long received;

    long firstSentAt;
    /** aigate's own time: body received → sent, plus answer's headers received → relayed. */
    long aigateNanos = -1;
    /** From the first attempt sent to the relayed answer's headers: the backends' time, retries included. */
    long backendNanos = -1;
    /** Why no answer came or it was cut; null while none failed. */
    Failure error;
    /** The current attempt's client span, while tracing is on. */
    io.opentelemetry.api.trace.Span clientSpan;

    /**
     * {@code aigate;dur=0.062, backend;dur=812.300}: milliseconds, as the header's {@code dur} is. An answer aigate gave
     * itself ({@code timing} null, or no backend answer relayed) is aigate's whole {@code elapsed} time, with why the
     * backend gave none when one failed ({@code aigate;dur=30001.2;desc="timeout"}).
     */
    static String serverTiming(Timing timing, long elapsedNanos) {
        if (timing == null || timing.aigateNanos < 0) {
            String why = timing == null || timing.error == null ? "" : ";desc=\"" + timing.error.tag() + '"';
            return "aigate;dur=" + millis(elapsedNanos) + why;
        }
        return "aigate;dur=" + millis(timing.aigateNanos) + ", backend;dur=" + millis(timing.backendNanos);
    }

    /** Three decimals, without a formatter: this runs for every answer. */
    static String millis(long nanos) {
        long micros = Math.max(0, nanos) / 1000;
        long fraction = micros % 1000;
        return (micros / 1000) + (fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".") + fraction;
    }
}
