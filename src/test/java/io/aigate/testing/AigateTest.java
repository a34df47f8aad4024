package io.aigate.testing;

import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;

/**
 * What every test of the running sidecar needs: its data and management ports, a fake backend that has seen nothing
 * yet, and the metrics as a Prometheus scrape sees them.
 */
public abstract class AigateTest {

    /** HTTP/1.1, as the SDKs speak to a sidecar on localhost. */
    protected static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    @TestHTTPResource("/")
    protected URL base;

    @TestHTTPResource(value = "/", management = true)
    protected URL management;

    @BeforeEach
    void forgetWhatTheBackendSaw() {
        CloudDoubles.openAi.clear();
    }

    /** The text of {@code /q/metrics}, scraped now. */
    protected String metrics() throws Exception {
        return HTTP.send(
                        HttpRequest.newBuilder(URI.create(management.toString()).resolve("/q/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    /** One sample of a scrape, by its name and exact label set as Prometheus writes it; 0 when absent. */
    protected double metric(String name, String labels) throws Exception {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        "^" + java.util.regex.Pattern.quote(name + "{" + labels + "}") + " (\\S+)$",
                        java.util.regex.Pattern.MULTILINE)
                .matcher(metrics());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /**
     * A request to the sidecar with the suite's subscription key, as an SDK would send it.
     *
     * @param body    null for none
     * @param headers more headers, as name, value pairs
     */
    protected HttpResponse<String> request(
            String method, String path, String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve(path))
                .timeout(Duration.ofSeconds(20))
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", contentType)
                .header("Ocp-Apim-Subscription-Key", CloudDoubles.key);
        if (headers.length > 0) {
            request.headers(headers);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** aigate answered itself, with this status in the answer and in its APIM-style body. */
    protected static void refused(HttpResponse<String> response, int status) {
        org.junit.jupiter.api.Assertions.assertEquals(status, response.statusCode(), response.body());
        org.junit.jupiter.api.Assertions.assertEquals(
                status, new io.vertx.core.json.JsonObject(response.body()).getInteger("statusCode"), response.body());
    }

    /** Nothing reached the fake backend (waited for a second). */
    protected void backendUntouched(String what) throws InterruptedException {
        org.junit.jupiter.api.Assertions.assertNull(CloudDoubles.openAi.next(1), what + " must not reach the backend");
    }
}
