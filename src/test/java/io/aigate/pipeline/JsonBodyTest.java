package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

/** One reading: whatever two parsers could read two ways is refused, whatever they read alike is kept exactly. */
class JsonBodyTest {

    static JsonBody.Problem problem(String body) {
        return JsonBody.parse(Buffer.buffer(body)).problem();
    }

    @Test
    void namesThatCollideOnceDecodedOrFoldedAreDuplicates() {
        assertEquals(
                JsonBody.Problem.DUPLICATE_FIELD,
                problem("{\"model\":\"a\",\"mod\\u0065l\":\"b\"}"),
                "an escaped name is the same name");
        assertEquals(
                JsonBody.Problem.DUPLICATE_FIELD,
                problem("{\"model\":\"a\",\"Model\":\"b\"}"),
                "a backend binding fields without regard to case reads the second");
        assertEquals(JsonBody.Problem.DUPLICATE_FIELD, problem("{\"max_tokens\":1,\"MAX_TOKENS\":100000}"));
        assertEquals(JsonBody.Problem.DUPLICATE_FIELD, problem("{\"a\":{\"x\":1,\"x\":2}}"), "at any depth");
        JsonBody.Parsed refused = JsonBody.parse(Buffer.buffer("{\"model\":\"a\",\"Model\":\"b\"}"));
        assertNull(refused.object(), "a refused body offers no tree to judge");
    }

    @Test
    void aToolSchemaMayNamePropertiesThatDifferInCase() {
        String body = "{\"model\":\"gpt-4o\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
                + "\"parameters\":{\"type\":\"object\",\"properties\":{\"id\":{},\"ID\":{}}}}}]}";
        assertTrue(JsonBody.parse(Buffer.buffer(body)).ok());
    }

    @Test
    void numbersAreWrittenBackAsTheyWereJudged() {
        String body = "{\"a\":12345678901234567890123,\"b\":0.1000,\"c\":1E+400,\"d\":-7}";
        JsonBody.Parsed parsed = JsonBody.parse(Buffer.buffer(body));
        assertTrue(parsed.ok());
        String written = JsonBody.write(parsed.object()).toString();
        assertEquals(JsonBody.parse(Buffer.buffer(written)).object(), parsed.object(), written);
        assertTrue(written.contains("12345678901234567890123") && written.contains("0.1000"), written);
    }

    /** A body of about {@code bytes} bytes: {@code {"a":[e,e,…]}}. */
    static Buffer many(String element, int bytes) {
        StringBuilder body = new StringBuilder("{\"a\":[");
        for (int i = 0; body.length() < bytes; i++) {
            body.append(i == 0 ? "" : ",").append(element.replace("#", Integer.toString(i, 36)));
        }
        return Buffer.buffer(body.append("]}").toString());
    }

    @Test
    void aBodyWhoseTreeIsManyTimesItsBytesIsRefusedWhateverItIsMadeOf() {
        for (String element : new String[] {"{}", "[]", "0.1", "{\"k#\":0}", "[[[[]]]]"}) {
            assertEquals(
                    JsonBody.Problem.PARSED_TOO_LARGE,
                    JsonBody.parse(many(element, 1 << 20)).problem(),
                    "1 MB of " + element);
        }
        // the same shapes small enough, and a chat body of the same size, are read
        assertTrue(JsonBody.parse(many("{}", 64 << 10)).ok());
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "Say hello. ".repeat(95_000) + "\"}]}";
        assertTrue(JsonBody.parse(Buffer.buffer(chat)).ok(), "a 1 MB prompt");
        assertTrue(JsonBody.parse(many("12345", 1 << 20)).ok(), "1 MB of token ids (embeddings)");
    }

    @Test
    void aTreeIsTakenFromTheSharedBoundAsItIsBuiltAndRefusedWhenItDoesNotFit() {
        java.util.concurrent.atomic.AtomicLong taken = new java.util.concurrent.atomic.AtomicLong();
        JsonBody.Budget shared = new JsonBody.Budget(JsonBody.DEFAULT_MAX_PARSED_BYTES, bytes -> {
            taken.addAndGet(bytes);
            return taken.get() <= (1 << 20);
        });
        assertTrue(JsonBody.parse(many("{}", 4 << 10), shared).ok());
        // 1,365 empty objects: about 230 KB of heap, taken in 64 KB steps
        assertTrue(taken.get() >= 200 << 10 && taken.get() <= 320 << 10, "taken: " + taken.get());
        assertEquals(
                JsonBody.Problem.OVER_SHARED_BOUND,
                JsonBody.parse(many("{}", 64 << 10), shared).problem(),
                "a tree that does not fit what all bodies may hold now");
    }
}
