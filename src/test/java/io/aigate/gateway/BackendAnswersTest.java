package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.HostileBackend;
import io.aigate.testing.LogCapture;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend that answers what no caller should ever see: a redirect (the SDK would follow it with the subscription
 * key and the prompt), an interim or protocol-switching status as the answer, a proxy's challenge, a number that is
 * no HTTP status. None of it reaches the caller: 502 in APIM's shape, nothing of the answer, counted and audited.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(BackendAnswersTest.Hostile.class)
class BackendAnswersTest extends AigateTest {

    static final HostileBackend HOSTILE = HostileBackend.start();

    /** The suite's routes plus one on the hostile backend, a pool of two members on it, and an open {@code *}. */
    public static class Hostile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>();
            for (String name : List.of("hostile", "hostile-a", "hostile-b")) {
                config.put("aigate.backends." + name + ".url", HOSTILE.url());
                config.put("aigate.backends." + name + ".credential", "none");
            }
            config.put("aigate.routes.hostile.deployments", "gpt-hostile");
            config.put("aigate.routes.hostile.backend", "hostile");
            config.put("aigate.pools.hostile-pool.members.hostile-a.priority", "1");
            config.put("aigate.pools.hostile-pool.members.hostile-b.priority", "2");
            config.put("aigate.routes.hostile-pool.deployments", "gpt-hostile-pool");
            config.put("aigate.routes.hostile-pool.backend", "hostile-pool");
            // what callers may vary freely: any deployment, files by id, models
            config.put("aigate.routes.rest.deployments", "*");
            config.put("aigate.routes.rest.backend", "hostile");
            config.put(
                    "aigate.routes.rest.operations",
                    "POST chat/completions,GET files/{file-id},GET files/{file-id}/content,GET models");
            config.put("aigate.tokens.dimensions", "route,backend,deployment,subscription");
            config.put("aigate.audit.log", "all");
            return config;
        }
    }

    @BeforeEach
    void freshBackend() {
        HOSTILE.clear();
    }

    HttpResponse<String> chat(String deployment, String requestId) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(base.toString())
                                .resolve("/openai/deployments/" + deployment
                                        + "/chat/completions?api-version=2024-10-21"))
                        .timeout(Duration.ofSeconds(20))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                        .header("Content-Type", "application/json")
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .header("x-ms-client-request-id", requestId)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static void refusedWith502(HttpResponse<String> response) {
        assertEquals(502, response.statusCode(), response.body());
        JsonObject body = new JsonObject(response.body());
        assertEquals(502, body.getInteger("statusCode"), response.body());
        assertNotNull(body.getString("message"));
        assertEquals(List.of("application/json"), response.headers().allValues("Content-Type"));
        for (String leaked : List.of("Location", "Set-Cookie", "x-backend-secret", "Upgrade")) {
            assertTrue(response.headers().allValues(leaked).isEmpty(), leaked + " must not reach the caller");
        }
    }

    @Test
    void aRedirectIsNeitherFollowedNorRelayedAndIsCountedAndAudited() throws Exception {
        String stolen = HOSTILE.url() + "/stolen";
        HOSTILE.answerNext(HostileBackend.answer(
                302,
                "{\"moved\":true}",
                "Location: " + stolen,
                "Set-Cookie: session=backend",
                "x-backend-secret: yes"));
        double before = metric(
                "aigate_backend_answers_refused_total", "backend=\"hostile\",route=\"hostile\",why=\"redirect\"");
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> response = chat("gpt-hostile", "redirect-1");
            refusedWith502(response);
            assertFalse(response.body().contains("moved"), response.body());
            assertTrue(response.body().contains("redirect"), response.body());
            JsonObject line = Await.value(
                    "the audit line of redirect-1",
                    Duration.ofSeconds(3),
                    () -> logs.lines().stream()
                            .filter(l -> l.startsWith("aigate.audit {") && l.contains("\"redirect-1\""))
                            .findFirst()
                            .map(l -> new JsonObject(l.substring("aigate.audit ".length())))
                            .orElse(null));
            assertEquals(502, line.getInteger("status"));
            assertEquals("backend_redirect", line.getString("reason"));
            assertEquals("forward-request", line.getString("refused_by"));
        }
        assertEquals(1, HOSTILE.received().size(), "the redirect was followed: " + HOSTILE.received());
        Await.equal(
                "the refused redirect is counted",
                Duration.ofSeconds(3),
                before + 1,
                () -> metric(
                        "aigate_backend_answers_refused_total",
                        "backend=\"hostile\",route=\"hostile\",why=\"redirect\""));
    }

    /** Every 3xx, with or without a Location; interim and switching statuses; a proxy's challenge; no status at all. */
    @ParameterizedTest
    @ValueSource(ints = {300, 301, 303, 304, 305, 307, 308, 399, 101, 102, 199, 407, 600, 999})
    void anAnswerThatIsNoFinalAnswerIsNeverRelayed(int status) throws Exception {
        String extra =
                status == 101 ? "Upgrade: h2c" : status == 407 ? "Proxy-Authenticate: Basic" : "x-backend-secret: 1";
        HOSTILE.answerNext(
                status < 200 || status == 304
                        ? "HTTP/1.1 " + status + " Scripted\r\n" + extra + "\r\n\r\n"
                        : HostileBackend.answer(status, "{\"backend\":\"body\"}", extra));
        HttpResponse<String> response = chat("gpt-hostile", "status-" + status);
        refusedWith502(response);
        assertTrue(response.body().contains(Integer.toString(status)), response.body());
        assertFalse(response.body().contains("backend\":\"body"), response.body());
        assertEquals(1, HOSTILE.received().size());
    }

    @Test
    void aRedirectFromThePoolMemberThatRetriedIsNotRelayedEither() throws Exception {
        HOSTILE.answerNext(
                HostileBackend.answer(503, "{\"error\":{\"code\":\"503\",\"message\":\"busy\"}}"),
                HostileBackend.answer(307, "{}", "Location: " + HOSTILE.url() + "/elsewhere"));
        HttpResponse<String> response = chat("gpt-hostile-pool", "pool-redirect-1");
        refusedWith502(response);
        assertEquals(2, HOSTILE.received().size(), "the first member's 503 was retried, once: " + HOSTILE.received());
        assertTrue(
                HOSTILE.received().stream().noneMatch(l -> l.contains("/elsewhere")),
                HOSTILE.received().toString());
    }

    /**
     * A backend's 401 is about aigate's own credential (the caller's never reaches it): its status and Azure's error
     * body pass, as APIM passes them, but not its challenge, which no caller can answer.
     */
    @Test
    void theBackendsOwnChallengeStaysWithAigate() throws Exception {
        HOSTILE.answerNext(HostileBackend.answer(
                401,
                "{\"error\":{\"code\":\"PermissionDenied\",\"message\":\"principal lacks a role\"}}",
                "WWW-Authenticate: Bearer authorization_uri=\"https://login.example/\", error=\"invalid_token\""));
        HttpResponse<String> response = chat("gpt-hostile", "challenge-1");
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("PermissionDenied"), response.body());
        assertTrue(
                response.headers().allValues("WWW-Authenticate").isEmpty(),
                response.headers().toString());
    }
}
