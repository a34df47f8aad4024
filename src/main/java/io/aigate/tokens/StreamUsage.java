package io.aigate.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigate.pipeline.JsonBody;
import io.vertx.core.buffer.Buffer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Exact usage for streams whose caller did not ask for it. On the way in, {@code stream_options.include_usage} is
 * added to the request; on the way out, what that adds is taken away again — the final usage event
 * ({@code "choices":[]} with the usage) and the {@code "usage":null} field of every other chunk — so the caller
 * receives, byte for byte, the stream it asked for, and the count is still exact.
 */
public final class StreamUsage {

    private static final JsonFactory JSON = new JsonFactory();

    private StreamUsage() {}

    /** Whether the caller asked for a stream: JSON {@code true} only (a quoted "true" is not one). */
    public static boolean streams(ObjectNode request) {
        return request != null
                && request.path("stream").isBoolean()
                && request.path("stream").booleanValue();
    }

    /**
     * The request body with usage requested, written from the tree every step judged; or null when nothing is to be
     * done: not a stream, or the caller already asked for usage (or explicitly refused it).
     */
    public static Buffer requestUsage(ObjectNode request) {
        if (!streams(request)) {
            return null;
        }
        JsonNode options = request.get("stream_options");
        if (options != null && (!options.isObject() || options.has("include_usage"))) {
            return null; // whatever the caller chose (or sent malformed) is theirs to keep
        }
        ObjectNode withUsage = request.deepCopy();
        (options == null ? withUsage.putObject("stream_options") : (ObjectNode) withUsage.get("stream_options"))
                .put("include_usage", true);
        return JsonBody.write(withUsage);
    }

    /**
     * Rewrites one SSE event (its bytes up to and including the blank line that ends it) as the caller would have
     * received it without include_usage: null to drop the whole event, or the event with top-level
     * {@code "usage":null} removed. Anything it does not recognise passes unchanged.
     */
    static byte[] restore(byte[] event) {
        int data = UsageReader.indexOf(event, "data:".getBytes(StandardCharsets.US_ASCII));
        if (data < 0) {
            return event;
        }
        int jsonStart = data + 5;
        while (jsonStart < event.length && event[jsonStart] == ' ') {
            jsonStart++;
        }
        if (jsonStart >= event.length || event[jsonStart] != '{') {
            return event;
        }
        int jsonEnd = lineEnd(event, jsonStart);
        try (JsonParser parser = JSON.createParser(event, jsonStart, jsonEnd - jsonStart)) {
            parser.nextToken();
            boolean emptyChoices = false;
            boolean usageObject = false;
            long usageFieldStart = -1;
            long usageValueEnd = -1;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                long fieldStart = parser.currentTokenLocation().getByteOffset();
                JsonToken value = parser.nextToken();
                if (field.equals("usage")) {
                    if (value == JsonToken.VALUE_NULL) {
                        usageFieldStart = fieldStart;
                        usageValueEnd = parser.currentLocation().getByteOffset();
                    } else if (value == JsonToken.START_OBJECT) {
                        usageObject = true;
                        parser.skipChildren();
                    }
                } else if (field.equals("choices") && value == JsonToken.START_ARRAY) {
                    JsonToken element = parser.nextToken();
                    emptyChoices = element == JsonToken.END_ARRAY;
                    while (element != JsonToken.END_ARRAY && element != null) {
                        parser.skipChildren();
                        element = parser.nextToken();
                    }
                } else {
                    parser.skipChildren();
                }
            }
            if (usageObject && emptyChoices) {
                return null; // the event include_usage added
            }
            if (usageFieldStart < 0) {
                return event;
            }
            return cut(event, jsonStart + (int) usageFieldStart, jsonStart + (int) usageValueEnd);
        } catch (IOException e) {
            return event;
        }
    }

    /** Removes {@code "usage":null} between from and to, with the comma that joined it to its neighbour. */
    private static byte[] cut(byte[] event, int from, int to) {
        int start = from;
        int end = to;
        int before = from - 1;
        while (before >= 0 && isSpace(event[before])) {
            before--;
        }
        if (before >= 0 && event[before] == ',') {
            start = before;
        } else {
            int after = to;
            while (after < event.length && isSpace(event[after])) {
                after++;
            }
            if (after < event.length && event[after] == ',') {
                end = after + 1;
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(event.length);
        out.write(event, 0, start);
        out.write(event, end, event.length - end);
        return out.toByteArray();
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    private static int lineEnd(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == '\n' || bytes[i] == '\r') {
                return i;
            }
        }
        return bytes.length;
    }
}
