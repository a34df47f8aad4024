package io.aigate.tokens;

import io.vertx.core.buffer.Buffer;
import java.util.Arrays;

/**
 * Splits an SSE stream into events as the bytes arrive and hands each complete event back restored (see
 * {@link StreamUsage#restore}). An event is released the moment its closing blank line arrives, so nothing waits
 * longer than the backend made it wait.
 */
public final class SseRestorer {

    private byte[] held = new byte[1024];
    private int length;

    /** The bytes to send on now: every event completed by this chunk, restored. */
    public Buffer accept(Buffer chunk) {
        int from = length;
        append(chunk.getBytes());
        Buffer out = Buffer.buffer();
        int eventStart = 0;
        for (int i = Math.max(from, 0); i < length; i++) {
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
        return out;
    }

    /** Whatever was left unfinished when the stream ended, as it came. */
    public Buffer finish() {
        Buffer rest = Buffer.buffer().appendBytes(held, 0, length);
        length = 0;
        return rest;
    }

    private boolean closesBlankLine(int lf, int eventStart) {
        int j = lf - 1;
        if (j >= eventStart && held[j] == '\r') {
            j--;
        }
        return j >= eventStart && held[j] == '\n';
    }

    private void append(byte[] bytes) {
        if (length + bytes.length > held.length) {
            held = Arrays.copyOf(held, Math.max(held.length * 2, length + bytes.length));
        }
        System.arraycopy(bytes, 0, held, length, bytes.length);
        length += bytes.length;
    }
}
