package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class TokenMetricsTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/openai/deployments/gpt-4o-mini/chat/completions")
    URL chat;

    @TestHTTPResource(value = "/", management = true)
    URL management;

    HttpResponse<String> post(String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(chat.toString()))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    String call(String body) throws Exception {
        HttpResponse<String> response = post(body);
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    double metric(String name, String labels) throws Exception {
        String text = HTTP.send(
                        HttpRequest.newBuilder(URI.create(management.toString()).resolve("/q/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$", Pattern.MULTILINE)
                .matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** The counters move when the answer's last byte has gone out, a moment after the caller has it: poll briefly. */
    void assertMetric(double expected, String name, String labels, String message) throws Exception {
        Await.equal(message, Duration.ofSeconds(3), expected, () -> metric(name, labels));
    }

    static String tokens(String type) {
        return "backend=\"aoai\",deployment=\"gpt-4o-mini\",route=\"default\",source=\"reported\","
                + "subscription=\"test-suite\",type=\"" + type + "\"";
    }

    @Test
    void exactUsageIsCountedForJsonAndForStreamsThatCarryIt() throws Exception {
        double prompt = metric("aigate_tokens_total", tokens("prompt"));
        double completion = metric("aigate_tokens_total", tokens("completion"));
        double total = metric("aigate_tokens_total", tokens("total"));
        call("{\"messages\":[]}");
        call("{\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}");
        assertMetric(prompt + 24, "aigate_tokens_total", tokens("prompt"), "");
        assertMetric(completion + 14, "aigate_tokens_total", tokens("completion"), "");
        assertMetric(total + 38, "aigate_tokens_total", tokens("total"), "");

        // a caller's no (false, null, a null stream_options) is asked as yes, and the usage hidden as it asked
        String unmeasured = "backend=\"aoai\",route=\"default\",why=\"no_usage_reported\"";
        double before = metric("aigate_tokens_unmeasured_total", unmeasured);
        for (String no : new String[] {"{\"include_usage\":false}", "{\"include_usage\":null}", "null"}) {
            String request = "{\"stream\":true,\"stream_options\":" + no + ",\"messages\":[]}";
            String direct = HTTP.send(
                            HttpRequest.newBuilder(URI.create(CloudDoubles.openAi.url()
                                            + "/openai/deployments/gpt-4o-mini/chat/completions"))
                                    .POST(HttpRequest.BodyPublishers.ofString(request))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
            assertEquals(direct, call(request), "as the backend sends it to a caller who said " + no);
        }
        assertMetric(total + 38 + 3 * 19, "aigate_tokens_total", tokens("total"), "each counted as reported");
        assertEquals(before, metric("aigate_tokens_unmeasured_total", unmeasured), "none left unmeasured");
    }

    @Test
    void aStreamCutBeforeItsUsageIsCountedFromWhatPassedAndMarkedEstimated() throws Exception {
        String estimated = "backend=\"slow\",deployment=\"gpt-stall\",route=\"slow\",source=\"estimated\","
                + "subscription=\"test-suite\",type=\"";
        double completion = metric("aigate_tokens_total", estimated + "completion\"");
        double prompt = metric("aigate_tokens_total", estimated + "prompt\"");
        HttpResponse<java.io.InputStream> response = HTTP.send(
                HttpRequest.newBuilder(URI.create(chat.toString().replace("gpt-4o-mini", "gpt-stall")))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(
                                HttpRequest.BodyPublishers.ofString(
                                        "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the world\"}]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        org.junit.jupiter.api.Assertions.assertThrows(
                java.io.IOException.class, () -> response.body().readAllBytes());
        Await.until(
                "cut stream counted",
                Duration.ofSeconds(5),
                () -> metric("aigate_tokens_total", estimated + "completion\"") != completion);
        assertMetric(completion + 1, "aigate_tokens_total", estimated + "completion\"", "\"Hello\" passed");
        assertMetric(
                prompt + 3 + 4 + 5,
                "aigate_tokens_total",
                estimated + "prompt\"",
                "priming + one message + five o200k tokens");
    }

    @Test
    void aStreamThatDidNotAskForUsageIsCountedAndArrivesExactlyAsADirectCallWouldSendIt() throws Exception {
        String request = "{\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        String direct = HTTP.send(
                        HttpRequest.newBuilder(URI.create(
                                        CloudDoubles.openAi.url() + "/openai/deployments/gpt-4o-mini/chat/completions"))
                                .POST(HttpRequest.BodyPublishers.ofString(request))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        double total = metric("aigate_tokens_total", tokens("total"));
        CloudDoubles.openAi.clear();
        String through = call(request);
        assertEquals(direct, through, "byte for byte what the backend sends a caller that did not ask for usage");
        assertMetric(total + 19, "aigate_tokens_total", tokens("total"), "and still counted exactly");
        var forwarded = CloudDoubles.openAi.next(5);
        org.junit.jupiter.api.Assertions.assertTrue(
                forwarded.body().contains("\"include_usage\":true"), forwarded.body());

        HTTP.send(
                HttpRequest.newBuilder(URI.create(
                                chat.toString().replace("/deployments/gpt-4o-mini/chat/completions", "/v1/responses")))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"model\":\"gpt-4o\",\"stream\":true,\"input\":\"hi\"}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        var responses = CloudDoubles.openAi.next(5);
        assertEquals(
                "{\"model\":\"gpt-4o\",\"stream\":true,\"input\":\"hi\",\"store\":false}",
                responses.body(),
                "the Responses API knows no stream_options: only store is said (the route does not grant it)");
    }

    @Test
    void streamSettingsOfAnotherTypeAreRefusedBeforeTheBackendSeesThem() throws Exception {
        CloudDoubles.openAi.clear();
        for (String body : new String[] {
            "{\"stream\":\"true\",\"messages\":[]}",
            "{\"stream\":true,\"stream_options\":\"no\",\"messages\":[]}",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":\"false\"},\"messages\":[]}"
        }) {
            HttpResponse<String> response = post(body);
            assertEquals(400, response.statusCode(), body);
            io.vertx.core.json.JsonObject error = new io.vertx.core.json.JsonObject(response.body());
            assertEquals(400, error.getInteger("statusCode"));
            org.junit.jupiter.api.Assertions.assertTrue(
                    error.getString("message").contains("must be"), error.getString("message"));
        }
        org.junit.jupiter.api.Assertions.assertNull(CloudDoubles.openAi.next(1), "none forwarded");
    }
}
