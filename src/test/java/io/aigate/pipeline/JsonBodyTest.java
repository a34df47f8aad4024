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
}
