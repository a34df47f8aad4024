package io.aigate.tokens;

import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * Splits an SSE stream into events as the bytes arrive and hands each complete event back restored (see
 * {@link StreamUsage#restore}). An event is released the moment its closing blank line arrives, so nothing waits
 * longer than the backend made it wait.
 *
 * <p>An event is held only up to {@link #MAX_HELD_EVENT}: a longer one (or one whose blank line never comes) is
 * released as it came, and the rest of it passes on untouched as it arrives. A usage event is a few hundred bytes and a
 * chat chunk a few kilobytes, so only an event no caller's stream needs restored goes unrestored; no backend can make
 * the restorer hold a stream.
 */
public final class SseRestorer {

    /** The most of one event held back to restore it. */
    static final int MAX_HELD_EVENT = 1024 * 1024;

    private byte[] held = new byte[1024];
    private int length;
    /** An event past the bound is passing through untouched until its blank line. */
    private boolean passing;
    /** While passing: the last bytes were a line end (and perhaps a CR), so one more LF closes the event. */
    private boolean atLineEnd;

    /** The bytes to send on now: every event completed by this chunk, restored. */
    public Buffer accept(Buffer chunk) {
        byte[] bytes = chunk.getBytes();
        Buffer out = Buffer.buffer();
        int from = 0;
        if (passing) {
            from = passThrough(bytes);
            out.appendBytes(bytes, 0, from);
            if (passing) {
                return out;
            }
        }
        int scanFrom = length;
        append(bytes, from);
        int eventStart = 0;
        for (int i = scanFrom; i < length; i++) {
            if (held[i] == '\n' && closesBlankLine(i, eventStart)) {
                byte[] restored = StreamUsage.restore(Arrays.copyOfRange(held, eventStart, i + 1));
                if (restored != null) {
                    out.appendBytes(restored);
                }
                eventStart = i + 1;
            }
        }
        if (eventStart > 0) {
            System.arraycopy(held, eventStart, held, 0, length - eventStart);
            length -= eventStart;
        }
        if (length > MAX_HELD_EVENT) {
            out.appendBytes(held, 0, length);
            passing = true;
            atLineEnd =
                    held[length - 1] == '\n' || (held[length - 1] == '\r' && length > 1 && held[length - 2] == '\n');
            length = 0;
            held = new byte[1024];
        }
        return out;
    }

    /** Where the passing event ends in {@code bytes} (just after its blank line), or their length if it goes on. */
    private int passThrough(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b == '\n') {
                if (atLineEnd) {
                    passing = false;
                    atLineEnd = false;
                    return i + 1;
                }
                atLineEnd = true;
            } else if (b != '\r' || !atLineEnd) {
                atLineEnd = false;
            }
        }
        return bytes.length;
    }

    /** Whatever was left unfinished when the stream ended, as it came. */
    public Buffer finish() {
        Buffer rest = Buffer.buffer().appendBytes(held, 0, length);
        length = 0;
        return rest;
    }

    /** The bytes held back now (for tests of the bound). */
    int heldBytes() {
        return length;
    }

    private boolean closesBlankLine(int lf, int eventStart) {
        int j = lf - 1;
        if (j >= eventStart && held[j] == '\r') {
            j--;
        }
        return j >= eventStart && held[j] == '\n';
    }

    private void append(byte[] bytes, int from) {
        int n = bytes.length - from;
        if (length + n > held.length) {
            held = Arrays.copyOf(held, Math.max(held.length * 2, length + n));
        }
        System.arraycopy(bytes, from, held, length, n);
        length += n;
    }
}
