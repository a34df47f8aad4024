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
     * What asking a stream for its usage makes of a request: the body to send instead ({@code body}, the caller then
     * gets the usage hidden again), nothing to do ({@link #NOTHING}: not a stream, or the caller asked for usage
     * itself), or why the request cannot be judged ({@code problem}, a fixed text).
     */
    public record Asked(Buffer body, ObjectNode tree, String problem) {
        public static final Asked NOTHING = new Asked(null, null, null);

        static Asked problem(String problem) {
            return new Asked(null, null, problem);
        }
    }

    /**
     * The request body with usage requested, written from the tree every step judged, whatever the caller said: an
     * absent, null or false {@code include_usage} (or an absent or null {@code stream_options}) is asked as true and
     * hidden again on the way back, so no choice of the caller's leaves the answer without its usage. A
     * {@code stream}, {@code stream_options} or {@code include_usage} of another type is refused: the backend might
     * read it one way and aigate another.
     */
    public static Asked requestUsage(ObjectNode request) {
        JsonNode stream = request == null ? null : request.get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) {
            return Asked.problem("stream must be true or false.");
        }
        if (!streams(request)) {
            return Asked.NOTHING;
        }
        JsonNode options = request.get("stream_options");
        JsonNode include = options == null ? null : options.get("include_usage");
        if (options != null && !options.isNull() && !options.isObject()) {
            return Asked.problem("stream_options must be a JSON object.");
        }
        if (include != null && !include.isNull() && !include.isBoolean()) {
            return Asked.problem("stream_options.include_usage must be true or false.");
        }
        if (include != null && include.booleanValue()) {
            return Asked.NOTHING; // the caller asked: nothing to hide
        }
        ObjectNode withUsage = JsonBody.shallowCopy(request);
        ObjectNode withInclude =
                options instanceof ObjectNode object ? JsonBody.shallowCopy(object) : request.objectNode();
        withUsage.set("stream_options", withInclude.put("include_usage", true));
        Buffer written = JsonBody.write(withUsage);
        // not sent as it came: that stream would run without its usage, on an estimate the caller chose to cause
        return written == null
                ? Asked.problem("The request body cannot be re-encoded.")
                : new Asked(written, withUsage, null);
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
