package io.aigate.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Traces as a collector receives them: decoded from OTLP on loopback, checked for their names, kinds, GenAI
 * attributes, parentage (the caller's trace continued, the backend's request a child of its attempt) and for the
 * absence of anything secret or any content.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(TracingTest.Traced.class)
class TracingTest extends AigateTest {

    public static class Traced implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(OtlpReceiver.class));
        }
    }

    static final String PROMPT = "the merger terms nobody may read";

    static String hex(int bytes) {
        byte[] random = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    HttpResponse<String> chat(String deployment, String key, String traceparent, String... more) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/" + deployment + "/chat/completions"))
                .header("Ocp-Apim-Subscription-Key", key)
                .header("traceparent", traceparent)
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]}"));
        if (more.length > 0) {
            request.headers(more);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static List<Span> trace(String traceId) {
        return OtlpReceiver.SPANS.stream()
                .filter(s ->
                        HexFormat.of().formatHex(s.getTraceId().toByteArray()).equals(traceId))
                .toList();
    }

    static String summary(List<Span> spans) {
        return spans.stream()
                .map(s -> s.getName() + "/" + s.getKind() + "/" + id(s.getSpanId()) + "<-" + id(s.getParentSpanId()))
                .toList()
                .toString();
    }

    static Map<String, AnyValue> attributes(Span span) {
        return span.getAttributesList().stream().collect(Collectors.toMap(KeyValue::getKey, KeyValue::getValue));
    }

    static String id(com.google.protobuf.ByteString bytes) {
        return HexFormat.of().formatHex(bytes.toByteArray());
    }

    @Test
    void aRequestIsOneServerSpanContinuingTheCallersTraceAndOneClientSpanPerAttempt() throws Exception {
        String traceId = hex(16);
        String callerSpan = hex(8);
        String token = FakeEntraId.mint(
                CloudDoubles.signingKey, FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "app-trace"));
        HttpResponse<String> response = chat(
                "gpt-jwt",
                CloudDoubles.key,
                "00-" + traceId + "-" + callerSpan + "-01",
                "Authorization",
                "Bearer " + token);
        assertEquals(200, response.statusCode(), response.body());
        FakeAzureOpenAi.Received seen = CloudDoubles.openAi.next(5);

        Await.until(
                "both spans exported",
                Duration.ofSeconds(10),
                () -> trace(traceId).size() >= 2);
        Span server = trace(traceId).stream()
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER)
                .findFirst()
                .orElseThrow(() -> new AssertionError(summary(OtlpReceiver.SPANS)));
        Span client = trace(traceId).stream()
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                .findFirst()
                .orElseThrow(() -> new AssertionError(summary(OtlpReceiver.SPANS)));

        assertEquals("chat gpt-jwt", server.getName());
        assertEquals(callerSpan, id(server.getParentSpanId()), "the caller's trace is continued");
        Map<String, AnyValue> s = attributes(server);
        assertEquals("chat", s.get("gen_ai.operation.name").getStringValue());
        assertEquals("gpt-jwt", s.get("gen_ai.request.model").getStringValue());
        assertEquals("jwt", s.get("aigate.route").getStringValue());
        assertEquals("test-suite", s.get("aigate.subscription.id").getStringValue());
        assertEquals("app-trace", s.get("aigate.client_app.id").getStringValue());
        assertEquals("none", s.get("aigate.token_limit").getStringValue());
        assertEquals(200, s.get("http.response.status_code").getIntValue());
        assertEquals(12, s.get("gen_ai.usage.input_tokens").getIntValue());
        assertEquals(7, s.get("gen_ai.usage.output_tokens").getIntValue());
        assertEquals("reported", s.get("aigate.usage.source").getStringValue());
        assertEquals("gpt-jwt", s.get("gen_ai.response.model").getStringValue(), "the model the backend named");
        assertEquals(
                "stop",
                s.get("gen_ai.response.finish_reasons")
                        .getArrayValue()
                        .getValues(0)
                        .getStringValue());

        assertEquals("chat gpt-jwt", client.getName());
        assertEquals(id(server.getSpanId()), id(client.getParentSpanId()), "the attempt is the request's child");
        Map<String, AnyValue> c = attributes(client);
        assertEquals("azure.ai.openai", c.get("gen_ai.provider.name").getStringValue());
        assertEquals("127.0.0.1", c.get("server.address").getStringValue());
        assertEquals(CloudDoubles.openAi.port(), c.get("server.port").getIntValue());
        assertEquals("aoai", c.get("aigate.backend").getStringValue());
        assertEquals(12, c.get("gen_ai.usage.input_tokens").getIntValue());

        assertEquals(
                "00-" + traceId + "-" + id(client.getSpanId()) + "-01",
                seen.header("traceparent"),
                "the backend's request is the attempt's child");

        for (Span span : trace(traceId)) {
            String all = span.toString();
            assertFalse(all.contains(CloudDoubles.key), "never a key");
            assertFalse(all.contains(token) || all.contains(token.substring(0, 20)), "never a token");
            assertFalse(all.contains(PROMPT), "never a prompt");
            assertFalse(all.contains("fake Azure OpenAI"), "never a completion");
        }
    }

    @Test
    void aRefusalIsAServerSpanThatSaysWhoRefusedAndNoAttempt() throws Exception {
        String traceId = hex(16);
        HttpResponse<String> refused =
                chat("gpt-4o", "aig_wrong_key_for_tracing", "00-" + traceId + "-" + hex(8) + "-01");
        assertEquals(401, refused.statusCode());
        Await.until(
                "the refusal exported",
                Duration.ofSeconds(10),
                () -> !trace(traceId).isEmpty());
        Thread.sleep(300); // time must pass: what is checked is that no client span ever follows
        List<Span> spans = trace(traceId);
        assertEquals(1, spans.size(), summary(spans));
        Map<String, AnyValue> s = attributes(spans.get(0));
        assertEquals("validate-subscription-key", s.get("aigate.refused_by").getStringValue());
        assertTrue(s.containsKey("aigate.refusal.reason"));
        assertFalse(spans.get(0).toString().contains("aig_wrong_key_for_tracing"), "never the key it refused");
    }

    @Test
    void eachAttemptOnAPoolIsAClientSpanOfItsOwnAndOnlyTheLastOneReachesTheBackend() throws Exception {
        String traceId = hex(16);
        // the pool's first member refuses connections: the request goes on to the second
        HttpResponse<String> response = chat("gpt-pooled", CloudDoubles.key, "00-" + traceId + "-" + hex(8) + "-01");
        assertEquals(200, response.statusCode(), response.body());
        FakeAzureOpenAi.Received seen = CloudDoubles.openAi.next(5);
        Await.until(
                "both attempts exported",
                Duration.ofSeconds(10),
                () -> trace(traceId).stream()
                                        .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                                        .count()
                                == 2
                        && trace(traceId).stream().anyMatch(s -> s.getKind() == Span.SpanKind.SPAN_KIND_SERVER));
        List<Span> attempts = trace(traceId).stream()
                .filter(s -> s.getKind() == Span.SpanKind.SPAN_KIND_CLIENT)
                .sorted(java.util.Comparator.comparingLong(Span::getStartTimeUnixNano))
                .toList();
        Map<String, AnyValue> first = attributes(attempts.get(0));
        Map<String, AnyValue> second = attributes(attempts.get(1));
        assertEquals("pool-gone", first.get("aigate.backend").getStringValue());
        assertEquals(1, first.get("aigate.attempt").getIntValue());
        assertEquals("connection_failure", first.get("error.type").getStringValue());
        assertEquals("pool-ok", second.get("aigate.backend").getStringValue());
        assertEquals(2, second.get("aigate.attempt").getIntValue());
        assertFalse(second.containsKey("error.type"), summary(attempts));
        assertEquals(
                "00-" + traceId + "-" + id(attempts.get(1).getSpanId()) + "-01",
                seen.header("traceparent"),
                "the backend that answered got the second attempt's context");
    }
}
