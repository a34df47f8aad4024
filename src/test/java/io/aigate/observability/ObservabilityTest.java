package io.aigate.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.LogCapture;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What callers and operators see of each request besides its answer: its id end to end, the time aigate added against
 * the backend's, one audit line (and nothing secret in it), and the OpenTelemetry GenAI metrics.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class ObservabilityTest extends AigateTest {

    static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    static final Pattern TIMING = Pattern.compile("aigate;dur=(\\d+\\.\\d{3})(, backend;dur=(\\d+\\.\\d{3}))?");
    static final String PROMPT = "the secret plan for the quarterly numbers";

    HttpResponse<String> chat(String deployment, String key, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/" + deployment + "/chat/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"" + PROMPT + "\"}]}"));
        if (key != null) {
            request.header("Ocp-Apim-Subscription-Key", key);
        }
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String header(HttpResponse<?> response, String name) {
        return response.headers().firstValue(name).orElse(null);
    }

    @Test
    void aRequestIdGoesToTheBackendAndComesBackAndTheBackendsOwnIdsStay() throws Exception {
        HttpResponse<String> given = chat("gpt-4o", CloudDoubles.key, "x-ms-client-request-id", "sdk-7f3a:retry.1");
        assertEquals("sdk-7f3a:retry.1", header(given, "x-ms-client-request-id"));
        FakeAzureOpenAi.Received seen = CloudDoubles.openAi.next(5);
        assertEquals("sdk-7f3a:retry.1", seen.header("x-ms-client-request-id"));
        assertNotNull(header(given, "apim-request-id"), "the backend's own id is passed on");
        assertTrue(header(given, "x-request-id").startsWith("backend-"), "and its x-request-id, untouched");

        HttpResponse<String> generic = chat("gpt-4o", CloudDoubles.key, "x-request-id", "mesh-42");
        assertEquals("mesh-42", header(generic, "x-ms-client-request-id"), "a mesh's x-request-id is taken");
        assertEquals("mesh-42", CloudDoubles.openAi.next(5).header("x-ms-client-request-id"));

        for (String hostile : new String[] {"a b", "x".repeat(129), "id\u00e9", "{\"forged\":1}"}) {
            HttpResponse<String> response = chat("gpt-4o", CloudDoubles.key, "x-ms-client-request-id", hostile);
            String id = header(response, "x-ms-client-request-id");
            assertTrue(UUID.matcher(id).matches(), "an id that is not plain is replaced: " + id);
            assertEquals(id, CloudDoubles.openAi.next(5).header("x-ms-client-request-id"));
        }
        HttpResponse<String> none = chat("gpt-4o", CloudDoubles.key);
        assertTrue(UUID.matcher(header(none, "x-ms-client-request-id")).matches());
        HttpResponse<String> refused = chat("gpt-4o", "not-a-key");
        assertEquals(401, refused.statusCode());
        assertTrue(UUID.matcher(header(refused, "x-ms-client-request-id")).matches(), "refusals carry one too");
    }

    @Test
    void serverTimingTellsAigatesTimeFromTheBackends() throws Exception {
        CloudDoubles.openAi.slowMillis(300);
        HttpResponse<String> slow = chat("gpt-slow", CloudDoubles.key);
        assertEquals(200, slow.statusCode(), slow.body());
        Matcher timing = TIMING.matcher(header(slow, "Server-Timing"));
        assertTrue(timing.matches(), header(slow, "Server-Timing"));
        double aigate = Double.parseDouble(timing.group(1));
        double backend = Double.parseDouble(timing.group(3));
        assertTrue(backend >= 300, "the backend's 300 ms are the backend's: " + backend);
        assertTrue(aigate < 100, "aigate's own part is small and apart: " + aigate);

        HttpResponse<String> refused = chat("gpt-4o", "not-a-key");
        Matcher own = TIMING.matcher(header(refused, "Server-Timing"));
        assertTrue(own.matches() && own.group(2) == null, "a refusal is aigate's time alone: " + own);
    }

    @Test
    void everyRequestHasOneAuditLineThatSaysWhoUsedWhatAndNothingSecret() throws Exception {
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> ok = chat("gpt-4o", CloudDoubles.key, "x-ms-client-request-id", "audit-ok-1");
            assertEquals(200, ok.statusCode());
            HttpResponse<String> refused = chat("gpt-4o", "aig_not_a_real_key", "x-ms-client-request-id", "audit-no-1");
            assertEquals(401, refused.statusCode());
            String token = FakeEntraId.mint(
                    CloudDoubles.signingKey,
                    FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "app-audit"));
            HttpResponse<String> withToken = chat(
                    "gpt-jwt",
                    CloudDoubles.key,
                    "Authorization",
                    "Bearer " + token,
                    "x-ms-client-request-id",
                    "audit-jwt-1");
            assertEquals(200, withToken.statusCode(), withToken.body());

            JsonObject line = Await.value(
                    "the audit line of audit-ok-1", Duration.ofSeconds(3), () -> logs.auditLine("audit-ok-1"));
            assertEquals("test-suite", line.getString("subscription_id"));
            assertEquals("default", line.getString("route"));
            assertEquals("gpt-4o", line.getString("deployment"));
            assertEquals("aoai", line.getString("backend"));
            assertEquals(200, line.getInteger("status"));
            assertEquals("forwarded", line.getString("outcome"));
            assertNull(line.getString("refused_by"));
            assertEquals("none", line.getString("token_limit"));
            assertEquals(12, line.getInteger("prompt_tokens"));
            assertEquals(7, line.getInteger("completion_tokens"));
            assertEquals("reported", line.getString("tokens"));
            assertTrue(line.getDouble("ttfb_ms") <= line.getDouble("duration_ms"));
            assertTrue(line.getLong("request_bytes") > PROMPT.length());
            assertTrue(line.getLong("response_bytes") > 0);
            assertTrue(java.time.Instant.parse(line.getString("time"))
                    .isBefore(java.time.Instant.now().plusSeconds(1)));

            JsonObject no = Await.value(
                    "the audit line of audit-no-1", Duration.ofSeconds(3), () -> logs.auditLine("audit-no-1"));
            assertEquals(401, no.getInteger("status"));
            assertEquals("refused", no.getString("outcome"));
            assertEquals("validate-subscription-key", no.getString("refused_by"));
            assertNotNull(no.getString("reason"));
            assertEquals("none", no.getString("tokens"));

            JsonObject jwt = Await.value(
                    "the audit line of audit-jwt-1", Duration.ofSeconds(3), () -> logs.auditLine("audit-jwt-1"));
            assertEquals("app-audit", jwt.getString("client_app_id"));
            assertTrue(UUID.matcher(jwt.getString("object_id")).matches(), jwt.encode());

            assertEquals(
                    1,
                    logs.lines().stream()
                            .filter(l -> l.contains("\"audit-ok-1\""))
                            .count(),
                    "one line each");
            for (String l : logs.lines()) {
                assertFalse(l.contains(CloudDoubles.key), "never a key: " + l);
                assertFalse(l.contains("aig_not_a_real_key"), "never even a wrong key: " + l);
                assertFalse(l.contains(token), "never a token: " + l);
                assertFalse(l.contains(PROMPT), "never a prompt: " + l);
                assertFalse(l.contains("fake Azure OpenAI"), "never a completion: " + l);
            }
        }
    }

    @Test
    void genAiMetricsFollowTheOpenTelemetryConventions() throws Exception {
        String port = Integer.toString(CloudDoubles.openAi.port());
        String input = "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"azure.ai.openai\","
                + "gen_ai_request_model=\"gpt-4o-mini\",gen_ai_token_type=\"input\",server_address=\"127.0.0.1\","
                + "server_port=\"" + port + "\"";
        double count = metric("gen_ai_client_token_usage_count", input);
        double sum = metric("gen_ai_client_token_usage_sum", input);
        assertEquals(200, chat("gpt-4o-mini", CloudDoubles.key).statusCode());
        Await.equal(
                "input tokens counted",
                Duration.ofSeconds(3),
                count + 1,
                () -> metric("gen_ai_client_token_usage_count", input));
        assertEquals(sum + 12, metric("gen_ai_client_token_usage_sum", input));
        assertTrue(
                metrics().contains("gen_ai_client_token_usage_bucket{" + input + ",le=\"16.0\"}"),
                "the conventions' buckets");

        String throttled = "error_type=\"429\",gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"azure.ai.openai\","
                + "gen_ai_request_model=\"throttled\",server_address=\"127.0.0.1\",server_port=\"" + port + "\"";
        double failures = metric("gen_ai_client_operation_duration_seconds_count", throttled);
        assertEquals(429, chat("throttled", CloudDoubles.key).statusCode());
        Await.equal(
                "the failed operation timed",
                Duration.ofSeconds(3),
                failures + 1,
                () -> metric("gen_ai_client_operation_duration_seconds_count", throttled));
        assertTrue(
                metrics()
                        .contains(
                                "gen_ai_client_operation_duration_seconds_bucket{error_type=\"\",gen_ai_operation_name=\"chat\""));
    }

    @Test
    void anAnswerTheBackendBrokeOffIsAuditedAsCutNotAsTheCallersLeaving() throws Exception {
        try (LogCapture logs = LogCapture.start()) {
            // one event, then the backend goes silent for longer than its 1 s timeout: aigate cuts the answer
            assertThrows(
                    java.io.IOException.class,
                    () -> chat("gpt-stall", CloudDoubles.key, "x-ms-client-request-id", "audit-cut-1"));
            JsonObject line = Await.value(
                    "the audit line of audit-cut-1", Duration.ofSeconds(5), () -> logs.auditLine("audit-cut-1"));
            assertEquals("cut", line.getString("outcome"), line.encode());
            assertEquals("slow", line.getString("backend"));
        }
    }

    @Test
    void idsThatAreNotPlainAreNeverTakenEvenWhenShort() throws Exception {
        HttpResponse<String> response = chat("gpt-4o", CloudDoubles.key, "x-ms-client-request-id", "a\tb");
        assertNotEquals("a\tb", header(response, "x-ms-client-request-id"));
    }
}
