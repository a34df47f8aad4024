package io.aigate.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeEntraId;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A sidecar that serves no route with token validation (and has {@code aigate.jwt.enabled=false}) cannot honour a
 * subscription bound to client applications: it says so for good, instead of a 503 that SDKs would retry for ever.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(JwtNotInUseTest.OpenRoutesOnly.class)
class JwtNotInUseTest {

    /** The suite's configuration, serving only its route without token validation. */
    public static class OpenRoutesOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("aigate.enabled-routes", "default");
        }
    }

    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TestHTTPResource("/openai/deployments/gpt-4o/chat/completions")
    URL chat;

    @TestHTTPResource(value = "/", management = true)
    URL management;

    HttpResponse<String> call(String key, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(chat.toString()))
                .header("Ocp-Apim-Subscription-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aSubscriptionBoundToClientAppsIsRefusedForGoodWithTheFix() throws Exception {
        String bound = Keys.ok(
                        CloudDoubles.redis.url(), "create", "--name", "bound", "--allowed-client-apps", "client-app")
                .key("Primary");
        String token = FakeEntraId.mint(
                CloudDoubles.signingKey,
                FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "client-app"));
        CloudDoubles.openAi.clear();
        for (String presented : new String[] {null, token}) {
            HttpResponse<String> refused = call(bound, presented);
            assertEquals(403, refused.statusCode(), refused.body());
            assertEquals(
                    new JsonObject()
                            .put("statusCode", 403)
                            .put("message", JwtRefusal.UNVERIFIABLE.message())
                            .encode(),
                    refused.body());
            assertTrue(refused.headers().firstValue("Retry-After").isEmpty(), "nothing to wait for");
        }
        assertNull(CloudDoubles.openAi.next(0), "nothing was forwarded");

        assertEquals(200, call(CloudDoubles.key, null).statusCode(), "an unbound subscription works");
        String health = HTTP.send(
                        HttpRequest.newBuilder(URI.create(management.toString()).resolve("/q/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        assertTrue(health.contains("\"state\": \"not used\"") || health.contains("\"state\":\"not used\""), health);
    }
}
