package io.aigate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped dashboard and alert rules only query metrics aigate really exposes, under those names. */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class MonitoringTest extends AigateTest {

    static final Pattern METRIC = Pattern.compile("\\b(aigate_[a-z_]+|gen_ai_client_[a-z_]+)");

    HttpResponse<InputStream> call(String deployment, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/" + deployment + "/chat/completions"))
                .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void everyMetricTheDashboardAndAlertsQueryIsExposed() throws Exception {
        // traffic that makes every kind of meter exist: tokens, a refusal per layer, a cut stream
        call("gpt-4o", "{\"messages\":[]}").body().readAllBytes();
        String limited = io.aigate.testing.Keys.ok(
                        CloudDoubles.redis.url(),
                        "create",
                        "--name",
                        "dashboard",
                        "--tokens-per-minute",
                        "1000",
                        "--token-quota",
                        "100000",
                        "--token-quota-period",
                        "Daily")
                .key("Primary");
        HttpResponse<String> metered = HTTP.send(
                HttpRequest.newBuilder(
                                URI.create(base.toString()).resolve("/openai/deployments/gpt-4o/chat/completions"))
                        .header("Ocp-Apim-Subscription-Key", limited)
                        .POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metered.statusCode(), metered.body());
        call("gpt-jwt", "{}").body().readAllBytes();
        call("gpt-4o", "{}", "Ocp-Apim-Subscription-Key", "nope").body().readAllBytes();
        try {
            call("gpt-stall", "{\"stream\":true}").body().readAllBytes();
        } catch (java.io.IOException cut) {
            // the stall is cut: that is the point
        }
        for (int i = 0; i < 3; i++) { // retried on the next member; the third connection failure trips the first
            assertEquals(200, call("gpt-pooled", "{}").statusCode());
        }
        for (int i = 0; i < 2; i++) { // the only member trips, then rests: aigate answers itself
            call("gpt-downed", "{}").body().readAllBytes();
        }
        Set<String> queried = new TreeSet<>();
        JsonObject dashboard = new JsonObject(Files.readString(Path.of("deploy/monitoring/aigate-dashboard.json")));
        assertEquals("aigate-overview", dashboard.getString("uid"));
        collect(dashboard.encode(), queried);
        collect(Files.readString(Path.of("deploy/monitoring/aigate-alerts.yaml")), queried);
        assertTrue(queried.size() >= 8, queried.toString());
        Set<String> unexposed = new TreeSet<>();
        // the cut stream is counted when the cut is handled, which may be just after the caller saw it
        Await.until("every queried metric exposed", Duration.ofSeconds(5), () -> {
            String exposed = metrics();
            unexposed.clear();
            for (String name : queried) {
                String family = name.replaceAll("_(bucket|count|sum)$", "");
                if (!(exposed.contains("\n" + family + "{")
                        || exposed.contains("\n" + family + " ")
                        || exposed.contains("# TYPE " + family + " ")
                        || exposed.contains("\n" + name + "{"))) {
                    unexposed.add(name);
                }
            }
            return unexposed.isEmpty();
        });
        assertEquals(Set.of(), unexposed, "queried but not exposed");

        // and every family aigate exposes is in the reference, so an operator can look up what it means
        String reference = Files.readString(Path.of("docs/metrics.md"));
        Set<String> undocumented = new TreeSet<>();
        Matcher type = Pattern.compile("# TYPE ((?:aigate|gen_ai)_[a-z_]+) ").matcher(metrics());
        while (type.find()) {
            String family = type.group(1).replaceAll("_max$", ""); // a timer's maximum, beside its histogram
            if (!reference.contains("`" + family)) {
                undocumented.add(family);
            }
        }
        assertEquals(Set.of(), undocumented, "exposed but not in docs/metrics.md");
    }

    private static void collect(String text, Set<String> into) {
        Matcher m = METRIC.matcher(text);
        while (m.find()) {
            into.add(m.group());
        }
    }
}
