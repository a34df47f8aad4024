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
        DUPLICATE_FIELD("The request body names a field more than once."),
        /** Its tree would take more heap than {@link Budget#maxParsedBytes()} allows one body (413). */
        PARSED_TOO_LARGE("The request body's JSON is too large once parsed."),
        /** Its tree does not fit in what all requests in flight may hold together right now (503). */
        OVER_SHARED_BOUND("Too many request bodies are being received right now. Retry shortly.");
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

    /**
     * What a body's parsed tree may take: at most {@code maxParsedBytes} of heap (estimated, see {@link TreeCost}),
     * each part of it first taken from the bound all requests in flight share ({@code take}, which says false when it
     * does not fit; what it took is given back with the body's own bytes when the request ends).
     */
    public record Budget(long maxParsedBytes, java.util.function.LongPredicate take) {
        /** For a body already judged (re-read to be rewritten): the default bound, nothing shared taken. */
        public static final Budget UNSHARED = new Budget(DEFAULT_MAX_PARSED_BYTES, bytes -> true);
    }

    /** A tree of a 1 MB chat body is about 1-2 MB; {@code [{},{},…]} would be 30. */
    public static final long DEFAULT_MAX_PARSED_BYTES = 8L << 20;

    public static Parsed parse(Buffer body) {
        return parse(body, Budget.UNSHARED);
    }

    /** The one reading of a body, within what its tree may take. */
    public static Parsed parse(Buffer body, Budget budget) {
        if (body == null || body.length() == 0) {
            return new Parsed(null, Problem.NOT_JSON);
        }
        try (JsonParser parser = new TreeCost(MAPPER.createParser(body.getBytes()), budget)) {
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
        } catch (TreeCost.Exceeded e) {
            return new Parsed(null, e.problem);
        } catch (IOException | RuntimeException e) {
            return new Parsed(null, Problem.NOT_JSON);
        }
    }

    /**
     * Counts what the tree being built from a body will take, token by token, and stops the parse once it is more
     * than one body may take or than the shared bound can give. A parsed tree is many times its bytes (an empty
     * object is 3 bytes of JSON and about 80 of heap), so a bound on bytes alone lets a few concurrent bodies fill the
     * heap. The estimate per token is an upper bound measured on this JVM's Jackson nodes (see the DOCS).
     */
    static final class TreeCost extends com.fasterxml.jackson.core.util.JsonParserDelegate {
        /** Taken from the shared bound in steps that double up to this much. */
        private static final long STEP = 64 * 1024;

        static final class Exceeded extends java.io.IOException {
            final Problem problem;

            Exceeded(Problem problem) {
                super(problem.name(), null);
                this.problem = problem;
            }
        }

        private final Budget budget;
        private long cost;
        private long taken;

        TreeCost(JsonParser parser, Budget budget) {
            super(parser);
            this.budget = budget;
        }

        @Override
        public com.fasterxml.jackson.core.JsonToken nextToken() throws IOException {
            com.fasterxml.jackson.core.JsonToken token = delegate.nextToken();
            if (token != null) {
                cost += switch (token) {
                    case START_OBJECT -> 160; // ObjectNode, its LinkedHashMap and table
                    case START_ARRAY -> 80; // ArrayNode and its ArrayList
                    case FIELD_NAME -> 80 + delegate.getTextLength(); // a map entry, the name if not shared
                    case VALUE_STRING -> 64 + delegate.getTextLength(); // TextNode, String, its bytes
                    case VALUE_NUMBER_INT -> 24;
                    case VALUE_NUMBER_FLOAT -> 64; // DecimalNode with an exact BigDecimal
                    default -> 8; // a slot for a shared node (true, false, null) or an end
                };
                if (cost > budget.maxParsedBytes()) {
                    throw new Exceeded(Problem.PARSED_TOO_LARGE);
                }
                if (cost > taken) {
                    // doubling from 1 KB: a small body takes only what it needs (a bound nearly full of other
                    // requests' bodies must still admit it), a large one asks the shared bound a few dozen times
                    long step = Math.max(cost - taken, Math.min(STEP, Math.max(1024, taken)));
                    if (!budget.take().test(step)) {
                        throw new Exceeded(Problem.OVER_SHARED_BOUND);
                    }
                    taken += step;
                }
            }
            return token;
        }

        // the tree builder reads through these shortcuts: each must pass through the count above
        @Override
        public String nextFieldName() throws IOException {
            return nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME ? currentName() : null;
        }

        @Override
        public boolean nextFieldName(com.fasterxml.jackson.core.SerializableString name) throws IOException {
            return nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME
                    && name.getValue().equals(currentName());
        }

        @Override
        public String nextTextValue() throws IOException {
            return nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING ? getText() : null;
        }

        @Override
        public int nextIntValue(int defaultValue) throws IOException {
            return nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT ? getIntValue() : defaultValue;
        }

        @Override
        public long nextLongValue(long defaultValue) throws IOException {
            return nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_NUMBER_INT ? getLongValue() : defaultValue;
        }

        @Override
        public Boolean nextBooleanValue() throws IOException {
            com.fasterxml.jackson.core.JsonToken token = nextToken();
            return token == com.fasterxml.jackson.core.JsonToken.VALUE_TRUE
                    ? Boolean.TRUE
                    : token == com.fasterxml.jackson.core.JsonToken.VALUE_FALSE ? Boolean.FALSE : null;
        }

        @Override
        public com.fasterxml.jackson.core.JsonToken nextValue() throws IOException {
            com.fasterxml.jackson.core.JsonToken token = nextToken();
            return token == com.fasterxml.jackson.core.JsonToken.FIELD_NAME ? nextToken() : token;
        }

        @Override
        public JsonParser skipChildren() throws IOException {
            // counted too: the tree builder does not skip, but nothing may pass uncounted if it did
            com.fasterxml.jackson.core.JsonToken token = currentToken();
            if (token == com.fasterxml.jackson.core.JsonToken.START_OBJECT
                    || token == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
                int open = 1;
                while (open > 0) {
                    com.fasterxml.jackson.core.JsonToken next = nextToken();
                    if (next == null) {
                        break;
                    }
                    if (next.isStructStart()) {
                        open++;
                    } else if (next.isStructEnd()) {
                        open--;
                    }
                }
            }
            return this;
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
     * The body with its {@code model} replaced, for a backend that names the deployment otherwise; written from the tree
     * every step judged (a copy: another member may take the request unrenamed), so what is judged is what is sent.
     *
     * @return null when it cannot be written: the request is refused rather than sent with the caller's name for the
     *     deployment, which the backend would serve (or bill) as another
     */
    public static Buffer withModel(ObjectNode judged, String model) {
        return write(shallowCopy(judged).put("model", model));
    }

    /**
     * A new object with the same members: enough for a change to the top level, and a deep copy would take a second
     * body's worth of memory outside the buffered-body bound.
     */
    public static ObjectNode shallowCopy(ObjectNode object) {
        ObjectNode copy = object.objectNode();
        copy.setAll(object);
        return copy;
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
