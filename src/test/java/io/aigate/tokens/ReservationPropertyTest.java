package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.RequestContext;
import io.aigate.testing.Configs;
import io.aigate.testing.Requests;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * No body can make a reservation negative or hold more than its prompt plus the configured cap: thousands of bodies
 * with absurd numbers are either refused when read or reserve within the bounds.
 */
class ReservationPropertyTest {

    static final String[] NUMBERS = {
        "0",
        "1",
        "-1",
        "2",
        "128",
        "129",
        "1.5",
        "1e3",
        "-0",
        "2147483647",
        "2147483648",
        "6917529027641081856",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "100000000000000000000000000000000",
        "\"100\"",
        "null",
        "true",
        "[]",
        "{}",
        "1.0",
        "0.0000001"
    };
    static final String[] FIELDS = {"max_tokens", "max_completion_tokens", "max_output_tokens", "n", "best_of"};

    @Test
    void noBodyReservesLessThanNothingOrMoreThanItsPromptAndTheCap() {
        AigateConfig config = Configs.aigate(Map.of("aigate.token-limit.tokens-per-minute", "1000"));
        LlmTokenLimit limit = new LlmTokenLimit(
                config.tokenLimit(),
                io.aigate.config.CounterKey.read(config.tokenLimit().counterKey()),
                null);
        long cap = config.tokenLimit().maxCompletionReservation();
        Random random = new Random(20261129);
        int refused = 0;
        int judged = 0;
        for (int i = 0; i < 5000; i++) {
            StringBuilder body = new StringBuilder("{\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]");
            int fields = random.nextInt(4);
            for (int f = 0; f < fields; f++) {
                body.append(",\"")
                        .append(FIELDS[random.nextInt(FIELDS.length)])
                        .append("\":")
                        .append(NUMBERS[random.nextInt(NUMBERS.length)]);
            }
            body.append('}');
            JsonBody.Parsed parsed = JsonBody.parse(Buffer.buffer(body.toString()));
            if (!parsed.ok() || TokenEstimator.invalidNumbers(parsed.object()) != null) {
                refused++; // a duplicate field, or a number that cannot be judged: 400, never forwarded
                continue;
            }
            assertNotNull(parsed.object());
            RequestContext ctx = Requests.chat(HttpHeaders.headers(), "default", "aoai", "gpt-4o");
            ctx.body(Buffer.buffer(body.toString()), parsed.object());
            long prompt = TokenEstimator.prompt(parsed.object(), "gpt-4o");
            long reserved = limit.reservation(ctx);
            assertTrue(reserved >= prompt, body + " reserved " + reserved);
            assertTrue(reserved <= prompt + cap, body + " reserved " + reserved);
            judged++;
        }
        assertTrue(refused > 500 && judged > 500, refused + " refused, " + judged + " judged");
    }
}
