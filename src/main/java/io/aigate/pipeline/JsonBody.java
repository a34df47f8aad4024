package io.aigate.pipeline;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * The one reading of a JSON request body that every step judges, parsed once per request. Strict, so that aigate and
 * the backend cannot read one body two ways: a duplicate field name at any depth (first wins here, last wins there),
 * top-level names that differ only in case, anything after the top-level value, or malformed UTF-8 makes the body
 * unreadable and the request is refused. Numbers
 * are kept exactly as written (no double rounding, no overflow to infinity), so a body aigate re-serialises carries
 * the values it judged.
 */
public final class JsonBody {

    /** Why a body could not be read; each a fixed text (nothing the caller sent is echoed). */
    public enum Problem {
        NOT_JSON("The request body is not valid JSON."),
        NOT_AN_OBJECT("The request body must be a JSON object."),
        DUPLICATE_FIELD("The request body names a field more than once.");
        // (top-level names that differ only in case count as one: a backend that binds fields without regard to case
        // would read {"model":"a","Model":"b"} as b)

        private final String message;

        Problem(String message) {
            this.message = message;
        }

        public String message() {
            return message;
        }
    }

    /** A body read as a JSON object, or the problem that stopped it. */
    public record Parsed(ObjectNode object, Problem problem) {
        public Parsed {
            object = problem == null ? object : null;
        }

        public boolean ok() {
            return problem == null;
        }
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(
                    JsonReadFeature.ALLOW_JAVA_COMMENTS,
                    JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS,
                    JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS,
                    JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    static {
        // a caller's nesting or number length must not cost stack or CPU beyond what a chat request needs
        MAPPER.getFactory()
                .setStreamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(64)
                        .maxNumberLength(64)
                        .build());
    }

    private JsonBody() {}

    public static Parsed parse(Buffer body) {
        if (body == null || body.length() == 0) {
            return new Parsed(null, Problem.NOT_JSON);
        }
        try (JsonParser parser = MAPPER.createParser(body.getBytes())) {
            JsonNode tree = MAPPER.readTree(parser);
            if (tree == null) {
                return new Parsed(null, Problem.NOT_JSON);
            }
            if (!(tree instanceof ObjectNode object)) {
                return new Parsed(null, Problem.NOT_AN_OBJECT);
            }
            return new Parsed(object, namesDifferOnlyInCase(object) ? Problem.DUPLICATE_FIELD : null);
        } catch (com.fasterxml.jackson.core.exc.StreamReadException e) {
            return new Parsed(
                    null,
                    e.getMessage() != null && e.getMessage().startsWith("Duplicate field")
                            ? Problem.DUPLICATE_FIELD
                            : Problem.NOT_JSON);
        } catch (IOException | RuntimeException e) {
            return new Parsed(null, Problem.NOT_JSON);
        }
    }

    /**
     * Whether two top-level names are equal without regard to case. Only the top level: that is where the fields
     * aigate judges live, while a tool's JSON schema may rightly name properties {@code id} and {@code ID}.
     */
    private static boolean namesDifferOnlyInCase(ObjectNode object) {
        if (object.size() < 2) {
            return false;
        }
        java.util.Set<String> seen = new java.util.HashSet<>(object.size() * 2);
        for (java.util.Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            if (!seen.add(names.next().toLowerCase(java.util.Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The body with its {@code model} replaced, for a backend that names the deployment otherwise; re-serialised from
     * the one reading, so what is judged is still what is sent. Unchanged when it cannot be (it was read before).
     */
    public static Buffer withModel(Buffer body, String model) {
        Parsed parsed = parse(body);
        if (!parsed.ok()) {
            return body;
        }
        parsed.object().put("model", model);
        Buffer written = write(parsed.object());
        return written == null ? body : written;
    }

    /** The bytes of a body aigate changed, written from the tree it judged; null if it cannot be written. */
    public static Buffer write(ObjectNode object) {
        try {
            return Buffer.buffer(MAPPER.writeValueAsBytes(object));
        } catch (IOException | RuntimeException e) {
            return null; // e.g. a lone surrogate the caller escaped: leave the body as it was sent
        }
    }
}
