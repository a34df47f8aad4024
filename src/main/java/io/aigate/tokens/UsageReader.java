package io.aigate.tokens;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads token usage from an answer as it passes, without holding it back: a JSON body is read as its bytes pass
 * ({@link JsonUsageScanner}); an SSE stream's {@code data:} lines are each read by the same scanner as their bytes
 * pass, so no line is held, however long (an image stream's completed event carries megabytes of base64 and the usage
 * on one line: the usage is still read). Understands chat completions and embeddings ({@code prompt_tokens},
 * {@code completion_tokens}, {@code total_tokens} and their details) and the Responses API ({@code input_tokens},
 * {@code output_tokens}, also nested under {@code response} in its {@code response.completed} event). Unknown fields
 * are ignored everywhere.
 */
public final class UsageReader {

    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
    /** Streamed text is counted in pieces of about this many characters, so no stream is too long to count. */
    private static final int COUNT_EVERY = 16 * 1024;

    private static final int MAX_UNCOUNTED = 1024 * 1024;

    private final boolean stream;
    /** A JSON answer is read as it passes, whatever its size: nothing of it is held. */
    private final JsonUsageScanner json;
    /** The current line of a stream: how much of {@code data:} it began with (5: a data line), or -1 if another. */
    private int prefix;
    /** The current data line's reader, fed as its bytes pass. */
    private JsonUsageScanner event;
    /** A stream's usage event could not be believed: no later one is taken either. */
    private boolean distrusted;

    /** The generated text a stream delivered and not yet counted, for an estimate when it reports no usage. */
    private final StringBuilder streamed;

    private long streamedTokens;
    private String model;
    /** A stream's choices' {@code finish_reason}s, as they came. */
    private final java.util.List<String> finishReasons = new java.util.ArrayList<>(1);

    private Usage usage;

    private UsageReader(boolean stream) {
        this.stream = stream;
        this.json = stream ? null : new JsonUsageScanner();
        this.streamed = stream ? new StringBuilder() : null;
    }

    /** What an answer's content type lets aigate read of its usage. */
    public enum Kind {
        /** Nothing: the answer cannot carry usage. */
        NONE,
        /** One JSON document. */
        JSON,
        /** Server-sent events. */
        STREAM
    }

    /** The kind of answer this content type names, without making a reader. */
    public static Kind kindOf(String contentType) {
        if (contentType == null) {
            return Kind.NONE;
        }
        String type = contentType.toLowerCase(Locale.ROOT);
        return type.startsWith("text/event-stream")
                ? Kind.STREAM
                : type.startsWith("application/json") ? Kind.JSON : Kind.NONE;
    }

    /** A reader of this kind, or null for {@link Kind#NONE}. */
    static UsageReader of(Kind kind) {
        return kind == Kind.NONE ? null : new UsageReader(kind == Kind.STREAM);
    }

    public boolean isStream() {
        return stream;
    }

    public void accept(Buffer chunk) {
        byte[] bytes = chunk.getBytes();
        if (!stream) {
            json.feed(bytes);
            return;
        }
        int i = 0;
        while (i < bytes.length) {
            if (prefix == DATA.length) {
                int end = i;
                while (end < bytes.length && bytes[end] != '\n') {
                    end++;
                }
                event.feed(bytes, i, end);
                if (end == bytes.length) {
                    return;
                }
                i = end;
            }
            byte b = bytes[i++];
            if (b == '\n') {
                lineEnded();
            } else if (prefix >= 0 && prefix < DATA.length) {
                prefix = b == DATA[prefix] ? prefix + 1 : -1;
                if (prefix == DATA.length) {
                    event = new JsonUsageScanner(this::generated, finishReasons);
                }
            }
        }
    }

    /** A line is complete: a data line's usage (if any) is taken, unless this stream's usage was not believed. */
    private void lineEnded() {
        if (event != null) {
            Usage found = event.finishEvent();
            if (event.model() != null) {
                model = event.model();
            }
            event = null;
            if (found == JsonUsageScanner.IMPLAUSIBLE) {
                distrusted = true;
                usage = null;
            } else if (found != null && !distrusted) {
                usage = found;
            }
        }
        prefix = 0;
    }

    /**
     * Whether the answer reported a usage that cannot be believed (negative, fractional, repeated, absurd counts): it
     * counts as reporting none.
     */
    public boolean distrusted() {
        return stream ? distrusted : json.distrusted();
    }

    /** The usage the answer reported, or null if it reported none (a cut stream, a stream without usage). */
    public Usage finish() {
        if (!stream) {
            usage = json.finish();
        }
        return usage;
    }

    /**
     * The tokens of everything a stream generated so far (text, tool-call arguments, refusals, reasoning). May load an
     * encoding: call it where blocking is allowed unless {@link TokenEstimator#loadedFor} says the model is ready.
     */
    public long streamedTokens(String fallbackModel) {
        String m = model != null ? model : fallbackModel;
        return streamedTokens + TokenEstimator.count(streamed.toString(), m);
    }

    /**
     * Counted as it comes, on the event loop, once this model's encoding is loaded (it loads in the background
     * meanwhile); what is left is counted at the end. Past {@link #MAX_UNCOUNTED} it is counted here regardless, so no
     * stream is held in memory whole.
     */
    private void generated(String text) {
        if (event != null && event.model() != null) {
            model = event.model(); // a chunk names its model before its choices
        }
        streamed.append(text);
        if (streamed.length() >= COUNT_EVERY) {
            if (TokenEstimator.loadedFor(model) || streamed.length() >= MAX_UNCOUNTED) {
                streamedTokens += TokenEstimator.count(streamed.toString(), model);
                streamed.setLength(0);
            } else {
                TokenEstimator.loadInBackground(model);
            }
        }
    }

    /** The model the backend says answered (a plain word, or null). */
    public String model() {
        return stream ? model : json.model();
    }

    /** The choices' {@code finish_reason}s (a plain word each, at most 16). */
    public java.util.List<String> finishReasons() {
        return stream ? finishReasons : json.finishReasons();
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
