package io.aigate.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * What one Realtime response used, from its {@code response.done} event's {@code response.usage}: input and output,
 * each split into text and audio (and the cached input), because audio is priced apart from text (docs/realtime.md).
 * A figure that is absent is -1. Every figure is the backend's word, so each must be a whole number from 0 to
 * {@link TokenBudget#MAX_USAGE}; one that is not makes the whole usage unbelievable ({@link #read} gives null), and the
 * response's reservation then stands as charged.
 */
public record RealtimeUsage(
        long inputTokens,
        long outputTokens,
        long totalTokens,
        long inputTextTokens,
        long inputAudioTokens,
        long cachedTokens,
        long outputTextTokens,
        long outputAudioTokens) {

    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** The usage of a {@code response.done} event, or null when it reports none that can be believed. */
    public static RealtimeUsage read(JsonNode event) {
        JsonNode usage = event == null ? null : event.path("response").get("usage");
        if (usage == null || !usage.isObject()) {
            return null;
        }
        long input = count(usage.get("input_tokens"));
        long output = count(usage.get("output_tokens"));
        long total = count(usage.get("total_tokens"));
        if (input < 0 || output < 0 || total < 0) {
            return null; // the three every response.done carries
        }
        JsonNode in = usage.path("input_token_details");
        JsonNode out = usage.path("output_token_details");
        long[] details = {
            optional(in, "text_tokens"),
            optional(in, "audio_tokens"),
            optional(in, "cached_tokens"),
            optional(out, "text_tokens"),
            optional(out, "audio_tokens")
        };
        for (long d : details) {
            if (d == INVALID) {
                return null;
            }
        }
        // parts larger than their whole are no count at all
        if (Math.max(0, details[0]) + Math.max(0, details[1]) > input
                || details[2] > input
                || Math.max(0, details[3]) + Math.max(0, details[4]) > output) {
            return null;
        }
        // what is charged is never less than its parts: a total below input + output is taken as their sum
        return new RealtimeUsage(
                input,
                output,
                Math.max(total, input + output),
                details[0],
                details[1],
                details[2],
                details[3],
                details[4]);
    }

    private static final long INVALID = -2;

    private static long optional(JsonNode parent, String name) {
        JsonNode value = parent.isObject() ? parent.get(name) : null;
        if (value == null || value.isNull()) {
            return -1;
        }
        long n = count(value);
        return n < 0 ? INVALID : n;
    }

    /** A whole, non-negative, plausible number, or -1. */
    private static long count(JsonNode value) {
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
            return -1;
        }
        long n = value.longValue();
        return n < 0 || n > TokenBudget.MAX_USAGE ? -1 : n;
    }

    /** As the token meters and the budget count any answer: input, output, total, cached. */
    public Usage asUsage() {
        return new Usage(inputTokens, outputTokens, totalTokens, cachedTokens, -1);
    }

    /**
     * The top-level {@code type} of a Realtime event, read without building its tree (an audio delta carries tens of
     * kilobytes of base64 that nothing here needs); null when the message is not a JSON object with one string
     * {@code type}. Strict: a name given twice makes the message unreadable, as it would be for the one that judges it.
     */
    public static String type(Buffer message) {
        try (JsonParser parser = JSON.createParser(message.getBytes())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String type = null;
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("type")) {
                    if (value != JsonToken.VALUE_STRING || type != null) {
                        return null;
                    }
                    type = parser.getText();
                } else {
                    parser.skipChildren();
                }
            }
            return token == JsonToken.END_OBJECT && parser.nextToken() == null ? type : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
