package io.aigate.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The official OpenAI SDK for Java, configured as an app team would for its sidecar (the v1 API at
 * {@code http://localhost:8080/openai/v1}, the subscription key as its API key): what it sends must pass, what aigate
 * answers it must read, streams included, and aigate's refusals must reach it as the errors it knows, without a retry
 * it was not told to make.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class OpenAiSdkTest extends AigateTest {

    static final String TEXT = String.join("", FakeAzureOpenAi.WORDS);

    OpenAIClient client(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(base.toString() + "openai/v1")
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    static ChatCompletionCreateParams chat(String model) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage("Say hello")
                .maxCompletionTokens(100)
                .build();
    }

    @BeforeEach
    void clear() {
        CloudDoubles.openAi.clear();
    }

    @Test
    void aChatCompletionArrivesAsTheSdkExpectsAndTheBackendNeverSeesTheKey() throws Exception {
        double before = tokens("gpt-4o");
        HttpResponseFor<ChatCompletion> raw =
                client(CloudDoubles.key).chat().completions().withRawResponse().create(chat("gpt-4o"));
        ChatCompletion completion = raw.parse();
        assertEquals(200, raw.statusCode());
        assertEquals(TEXT, completion.choices().get(0).message().content().orElse(null));
        assertEquals(12, completion.usage().orElseThrow().promptTokens());
        assertEquals(7, completion.usage().orElseThrow().completionTokens());
        assertFalse(raw.headers().values("x-ms-client-request-id").isEmpty(), "a request id came back");

        FakeAzureOpenAi.Received received = CloudDoubles.openAi.next(5);
        assertNotNull(received, "the request reached the backend");
        assertEquals("/openai/v1/chat/completions", received.path());
        assertEquals("gpt-4o", new JsonObject(received.body()).getString("model"));
        // the SDK put the subscription key in Authorization; the backend gets aigate's own credential instead
        String authorization = received.header("authorization");
        assertNotNull(authorization);
        assertFalse(authorization.contains(CloudDoubles.key), "the caller's key never reaches the backend");
        assertNull(received.header("api-key"));
        assertEquals(19, tokens("gpt-4o") - before, "the answer's usage was counted for the subscription");
    }

    @Test
    void aStreamArrivesWholeAndWithoutTheUsageEventTheSdkDidNotAskFor() throws Exception {
        double before = tokens("gpt-4o");
        List<String> deltas = new ArrayList<>();
        List<ChatCompletionChunk> withUsage = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream =
                client(CloudDoubles.key).chat().completions().createStreaming(chat("gpt-4o"))) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(choice -> choice.delta().content().ifPresent(deltas::add));
                if (chunk.usage().isPresent()) {
                    withUsage.add(chunk);
                }
            });
        }
        assertEquals(TEXT, String.join("", deltas), "every delta, in order");
        assertTrue(withUsage.isEmpty(), "the caller did not ask for usage, so it gets none: " + withUsage);
        // aigate asked the backend for usage on the caller's behalf, and counted it
        JsonObject sent = new JsonObject(CloudDoubles.openAi.next(5).body());
        assertTrue(sent.getBoolean("stream"));
        assertEquals(Boolean.TRUE, sent.getJsonObject("stream_options").getBoolean("include_usage"));
        assertEquals(12 + FakeAzureOpenAi.WORDS.length, tokens("gpt-4o") - before);
    }

    @Test
    void refusalsReachTheSdkAsTheErrorsItKnowsAndNothingIsForwarded() throws Exception {
        UnauthorizedException unknownKey = assertThrows(
                UnauthorizedException.class,
                () -> client("aig_not-a-key-of-any-subscription")
                        .chat()
                        .completions()
                        .create(chat("gpt-4o")));
        assertEquals(401, unknownKey.statusCode());

        NotFoundException unrouted = assertThrows(
                NotFoundException.class,
                () -> client(CloudDoubles.key).chat().completions().create(chat("gpt-unrouted")));
        assertEquals(404, unrouted.statusCode());

        assertNull(CloudDoubles.openAi.next(1), "neither was forwarded");

        // 10 tokens a minute: an empty bucket takes one request larger than itself, the next waits (aigate's 429)
        String limited = Keys.ok(
                        CloudDoubles.redis.url(), "create", "--name", "sdk-limited", "--tokens-per-minute", "10")
                .key("Primary");
        OpenAIClient sdk = client(limited);
        ChatCompletion first = sdk.chat().completions().create(chat("gpt-4o"));
        assertEquals(TEXT, first.choices().get(0).message().content().orElse(null));
        assertNotNull(CloudDoubles.openAi.next(5));
        RateLimitException throttled = assertThrows(
                RateLimitException.class, () -> sdk.chat().completions().create(chat("gpt-4o")));
        assertEquals(429, throttled.statusCode());
        String retryAfter = throttled.headers().values("Retry-After").get(0);
        assertTrue(Integer.parseInt(retryAfter) >= 1, "Retry-After " + retryAfter);

        assertNull(CloudDoubles.openAi.next(1), "the throttled request was not forwarded");
    }

    @Test
    void theBackendsOwnThrottlingReachesTheSdkWithItsRetryAfter() throws Exception {
        RateLimitException throttled = assertThrows(
                RateLimitException.class,
                () -> client(CloudDoubles.key).chat().completions().create(chat("throttled")));
        assertEquals(429, throttled.statusCode());
        assertEquals(List.of("7"), throttled.headers().values("Retry-After"));
        assertNotEquals(null, CloudDoubles.openAi.next(5), "this one the backend refused itself");
    }

    double tokens(String deployment) throws Exception {
        return metric(
                "aigate_tokens_total",
                "backend=\"aoai\",deployment=\"" + deployment + "\",route=\"default\",source=\"reported\","
                        + "subscription=\"test-suite\",type=\"total\"");
    }
}
