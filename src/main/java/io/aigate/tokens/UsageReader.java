package io.aigate.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * Reads token usage from an answer as it passes, without holding it back: a JSON body is read as its bytes pass
 * ({@link JsonUsageScanner}); an SSE stream is read line by line, and only a {@code data:} line that carries a usage
 * object is parsed (by the same scanner). Understands chat completions and embeddings ({@code prompt_tokens}, {@code completion_tokens},
 * {@code total_tokens} and their details) and the Responses API ({@code input_tokens}, {@code output_tokens}, also
 * nested under {@code response} in its {@code response.completed} event). Unknown fields are ignored everywhere.
 */
public final class UsageReader {

    /** Field names are not interned: each event has a handful, read once (see {@link JsonUsageScanner}). */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();
    /** The fields of a streamed choice whose strings the model generated. */
    private static final Set<String> GENERATED =
            Set.of("content", "refusal", "reasoning_content", "arguments", "text", "reasoning");

    private static final byte[] USAGE_OBJECT = "\"usage\":{".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USAGE_OBJECT_SPACED = "\"usage\": {".getBytes(StandardCharsets.US_ASCII);
    private static final int MAX_SSE_LINE = 1024 * 1024;
    /** Streamed text is counted in pieces of about this many characters, so no stream is too long to count. */
    private static final int COUNT_EVERY = 16 * 1024;

    private static final int MAX_UNCOUNTED = 1024 * 1024;

    private final boolean stream;
    /** A stream's unfinished line: made for streams only, a JSON answer never needs one. */
    private final ByteArrayOutputStream pending;
    /** A JSON answer is read as it passes, whatever its size: nothing of it is held. */
    private final JsonUsageScanner json;
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
        this.pending = stream ? new ByteArrayOutputStream() : null;
        this.streamed = stream ? new StringBuilder() : null;
    }

    /** A reader for this content type, or null when the answer cannot carry usage (nothing to read). */
    public static UsageReader forContentType(String contentType) {
        if (contentType == null) {
            return null;
        }
        String type = contentType.toLowerCase(Locale.ROOT);
        if (type.startsWith("text/event-stream")) {
            return new UsageReader(true);
        }
        if (type.startsWith("application/json")) {
            return new UsageReader(false);
        }
        return null;
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
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                pending.write(bytes, start, i - start);
                line(pending.toByteArray());
                pending.reset();
                start = i + 1;
            }
        }
        if (start < bytes.length) {
            if (pending.size() + bytes.length - start > MAX_SSE_LINE) {
                pending.reset(); // a line this long carries no usage we could trust; skip to the next one
            } else {
                pending.write(bytes, start, bytes.length - start);
            }
        }
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

    private void line(byte[] line) {
        if (line.length < 6 || line[0] != 'd' || !startsWith(line, "data:")) {
            return;
        }
        if (indexOf(line, USAGE_OBJECT) < 0 && indexOf(line, USAGE_OBJECT_SPACED) < 0) {
            collectText(line);
            return;
        }
        Usage found = JsonUsageScanner.read(line, 5);
        if (found == JsonUsageScanner.IMPLAUSIBLE) {
            distrusted = true;
            usage = null;
        } else if (found != null && !distrusted) {
            usage = found;
        }
    }

    /**
     * Collects what one event generated: every text a choice carries — chat's {@code delta} ({@code content},
     * {@code refusal}, {@code reasoning_content}, {@code tool_calls[].function.arguments},
     * {@code function_call.arguments}), the completions API's {@code text}; for the Responses API, the {@code delta}
     * string of its delta events (output text, function-call arguments, refusals, reasoning summaries). Notes the model.
     */
    private void collectText(byte[] line) {
        try (JsonParser parser = JSON.createParser(line, 5, line.length - 5)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("model") && value == JsonToken.VALUE_STRING) {
                    model = JsonUsageScanner.plainWord(parser.getText());
                } else if (field.equals("delta") && value == JsonToken.VALUE_STRING) {
                    generated(parser.getText());
                } else if (field.equals("choices") && value == JsonToken.START_ARRAY) {
                    while (parser.nextToken() == JsonToken.START_OBJECT) {
                        collectStrings(parser, 0);
                    }
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            // not JSON ([DONE], comments): nothing to collect
        }
    }

    /** Every string in a choice that the model wrote; roles, ids, types and logprob tokens are the protocol's. */
    private void collectStrings(JsonParser parser, int depth) throws IOException {
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_OBJECT && token != null) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (value == JsonToken.VALUE_STRING) {
                if (GENERATED.contains(field)) {
                    generated(parser.getText());
                } else if (depth == 0 && "finish_reason".equals(field)) {
                    JsonUsageScanner.noteFinishReason(finishReasons, parser.getText());
                }
            } else if (value == JsonToken.START_OBJECT && depth < 3) {
                collectStrings(parser, depth + 1);
            } else if (value == JsonToken.START_ARRAY && depth < 3) {
                while ((value = parser.nextToken()) != JsonToken.END_ARRAY && value != null) {
                    if (value == JsonToken.START_OBJECT) {
                        collectStrings(parser, depth + 1);
                    } else {
                        parser.skipChildren();
                    }
                }
            } else {
                parser.skipChildren();
            }
        }
    }

    private static boolean startsWith(byte[] bytes, String prefix) {
        for (int i = 0; i < prefix.length(); i++) {
            if (bytes[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
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
