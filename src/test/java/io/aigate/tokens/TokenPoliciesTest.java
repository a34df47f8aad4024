package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Caller;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.RequestContext;
import io.aigate.testing.Configs;
import io.aigate.testing.PolicyHarness;
import io.aigate.testing.Requests;
import io.aigate.testing.TestClock;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.redis.client.Redis;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The two token policies together, through every phase of one request, against a real Redis and without the gateway:
 * what each instance keeps for its request (the reservation, whether usage was asked for) reaches the request's end,
 * and the end settles it by how the request ended.
 */
class TokenPoliciesTest extends WithRealRedis {

    final AigateConfig config = Configs.aigate(Map.of(
            "aigate.token-limit.tokens-per-minute", "1000",
            "aigate.token-limit.estimate-prompt-tokens", "false",
            "aigate.token-limit.remaining-tokens-header-name", "x-remaining",
            "aigate.token-limit.tokens-consumed-header-name", "x-tokens-consumed",
            "aigate.backends.aoai.url", "http://127.0.0.1:1"));
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final TokenBudget budget = new TokenBudget(
            config,
            Redis.createClient(vertx, redis.url()),
            new TokenMetrics.Limit(registry, config.tokenLimit()),
            TestClock.at(Instant.parse("2026-12-03T12:00:00Z")));
    final LlmTokenLimit limit = new LlmTokenLimit(
            config.tokenLimit(),
            io.aigate.config.CounterKey.read(config.tokenLimit().counterKey()),
            budget);
    final LlmEmitTokenMetric emit =
            new LlmEmitTokenMetric(config, new TokenMetrics(registry, config), new GenAiMetrics(registry, config));
    final String subscription = "s-" + UUID.randomUUID();

    /** A chat completion of this subscription that allows 100 tokens of answer. */
    PolicyHarness request(String body) {
        RequestContext ctx = Requests.chat(HttpHeaders.headers(), "default", "aoai", "gpt-4o");
        ctx.caller(Caller.subscribed(subscription, Set.of()));
        ctx.body(Buffer.buffer(body), JsonBody.parse(Buffer.buffer(body)).object());
        return PolicyHarness.open(ctx, limit, emit);
    }

    static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100}";
    static final String STREAM =
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100,\"stream\":true}";

    /** Admits one more request and says how many tokens were left after its reservation of 100. */
    long remainingAfterNextAdmission() {
        PolicyHarness next = request(CHAT);
        assertTrue(next.request().proceeds());
        long remaining = Long.parseLong(next.ctx().responseHeaders().get("x-remaining"));
        next.end(Ending.NOT_SENT);
        return remaining;
    }

    @Test
    void aRequestNoBackendHadGivesItsReservationBack() {
        PolicyHarness first = request(CHAT);
        Outcome admitted = first.request();
        assertTrue(admitted.proceeds(), admitted.toString());
        assertEquals("900", first.ctx().responseHeaders().get("x-remaining"));
        assertEquals("admitted", LlmTokenLimit.decision(first.ctx()), "the audit line's token_limit");
        first.end(Ending.NOT_SENT);
        assertEquals(900, remainingAfterNextAdmission(), "the 100 reserved came back");
    }

    @Test
    void aRequestABackendHadButNeverAnsweredKeepsItsReservation() {
        PolicyHarness first = request(CHAT);
        assertTrue(first.request().proceeds());
        first.end(Ending.UNANSWERED);
        first.end(Ending.NOT_SENT); // a second end changes nothing: it was settled once
        assertEquals(800, remainingAfterNextAdmission(), "what it may have cost is charged");
    }

    @Test
    void aHeldAnswerCarriesItsExactTotalAndIsChargedIt() {
        PolicyHarness first = request(CHAT);
        assertTrue(first.request().proceeds());
        String json = "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":18,\"total_tokens\":30}}";
        MultiMap headers = HttpHeaders.headers()
                .add(HttpHeaders.CONTENT_TYPE, "application/json")
                .add(HttpHeaders.CONTENT_LENGTH, Integer.toString(json.length()));
        PolicyHarness.Relayed relayed = first.answer(200, headers, json.substring(0, 20), json.substring(20));
        assertTrue(relayed.held(), "held for the tokens-consumed header");
        assertEquals("30", relayed.headers().get("x-tokens-consumed"));
        assertEquals(json, relayed.body().toString());
        assertEquals(1000 - 30 - 100, remainingAfterNextAdmission());
    }

    @Test
    void aStreamGetsTheUsageItDidNotAskForChargedAndHiddenAgain() {
        PolicyHarness first = request(STREAM);
        assertTrue(first.request().proceeds());
        assertTrue(
                first.ctx().json().path("stream_options").path("include_usage").asBoolean(),
                "the body sent asks for usage");
        String content = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n";
        String usage = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":20,"
                + "\"total_tokens\":25}}\n\n";
        String done = "data: [DONE]\n\n";
        MultiMap headers = HttpHeaders.headers().add(HttpHeaders.CONTENT_TYPE, "text/event-stream");
        PolicyHarness.Relayed relayed = first.answer(200, headers, content, usage, done);
        assertFalse(relayed.held(), "a stream is never held");
        assertTrue(relayed.rewritten());
        assertEquals(content + done, relayed.body().toString(), "the caller sees the stream it asked for");
        assertNull(relayed.headers().get("x-tokens-consumed"));
        assertEquals(1000 - 25 - 100, remainingAfterNextAdmission());
    }

    @Test
    void aStreamThatEndsWithoutUsageIsChargedAtLeastItsReservation() {
        PolicyHarness first = request(STREAM);
        assertTrue(first.request().proceeds());
        MultiMap headers = HttpHeaders.headers().add(HttpHeaders.CONTENT_TYPE, "text/event-stream");
        PolicyHarness.Relayed relayed =
                first.answer(200, headers, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n");
        assertTrue(relayed.body().toString().contains("Hi"));
        // its usage never came: what passed is counted, and it is charged at least the reservation, never less
        assertEquals(800, remainingAfterNextAdmission());
    }

    @Test
    void anEarlierAttemptThatMayHaveBeenServedKeepsTheReservationWhateverTheLastAnswerSays() {
        PolicyHarness first = request(CHAT);
        assertTrue(first.request().proceeds());
        first.ctx().mayHaveBeenServed(); // the first member timed out after it had the request
        first.answer(429, HttpHeaders.headers().add(HttpHeaders.CONTENT_TYPE, "application/json"), "{\"error\":{}}");
        assertEquals(800, remainingAfterNextAdmission(), "the last member's 429 gives nothing back");

        PolicyHarness second = request(CHAT);
        assertTrue(second.request().proceeds());
        second.ctx().mayHaveBeenServed();
        String json = "{\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3,\"total_tokens\":5}}";
        PolicyHarness.Relayed answered =
                second.answer(200, HttpHeaders.headers().add(HttpHeaders.CONTENT_TYPE, "application/json"), json);
        assertNull(answered.headers().get("x-tokens-consumed"), "the exact total is no longer known");
        assertEquals(700, remainingAfterNextAdmission(), "charged at least the reservation (100), not the 5 answered");
    }
}
