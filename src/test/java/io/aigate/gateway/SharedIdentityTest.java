package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.testing.AigateTest;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the shared backend identity can be made to reach or do through a request aigate let in: a deployment named where
 * aigate did not look (a v1 form's {@code model}), or a body field naming another team's data or unmetered work.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(SharedIdentityTest.Routes.class)
class SharedIdentityTest extends AigateTest {

    static final String FORM = "multipart/form-data; boundary=aigateb0undary";

    /**
     * The suite's routes (gpt-roles needs a token with a role), a permissive {@code *} route, a route granted On Your
     * Data and file search, and a deployment the backend knows by another name.
     */
    public static class Routes implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "aigate.routes.rest.deployments", "*",
                    "aigate.routes.rest.backend", "aoai",
                    "aigate.routes.rest.operations",
                            "POST chat/completions,POST responses,POST audio/transcriptions,POST images/edits,"
                                    + "POST videos",
                    "aigate.routes.rag.deployments", "gpt-rag",
                    "aigate.routes.rag.backend", "aoai",
                    "aigate.routes.rag.body-features", "data-sources,file-search",
                    "aigate.routes.renamed.deployments", "gpt-renamed",
                    "aigate.routes.renamed.backend", "aoai",
                    "aigate.backends.aoai.deployment-names.gpt-renamed", "east-name");
        }
    }

    HttpResponse<String> post(String path, String type, String body) throws Exception {
        return request("POST", path, type, body);
    }

    static String form(String model) {
        return "--aigateb0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                + "Content-Type: audio/wav\r\n\r\nRIFF....\r\n"
                + (model == null
                        ? ""
                        : "--aigateb0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + model + "\r\n")
                + "--aigateb0undary--\r\n";
    }

    @Test
    void aV1FormIsRoutedByItsModel() throws Exception {
        for (String operation : List.of("audio/transcriptions", "images/edits")) {
            // gpt-roles requires a token: the * route, which does not, must never take it
            refused(post("/openai/v1/" + operation, FORM, form("gpt-roles")), 401);
            refused(post("/openai/v1/" + operation, FORM, form("GPT-Roles")), 401);
            backendUntouched("a form naming a protected deployment without its token");
        }
        // the JSON model of any v1 operation, not only the inference ones, is judged by its route (which does not
        // grant videos), never by the * route
        refused(post("/openai/v1/videos", "application/json", "{\"model\":\"gpt-roles\",\"prompt\":\"a cat\"}"), 404);
        backendUntouched("a video naming a protected deployment");

        String ok = form("gpt-4o-mini");
        assertEquals(200, post("/openai/v1/audio/transcriptions", FORM, ok).statusCode());
        var forwarded = CloudDoubles.openAi.next(5);
        assertEquals("/openai/v1/audio/transcriptions", forwarded.path());
        assertEquals(ok, forwarded.body(), "what was judged is what was sent");
    }

    @Test
    void aFormThatCannotBeReadOneWayOrNamesNoModelIsRefused() throws Exception {
        String twice = form("gpt-4o-mini")
                .replace(
                        "--aigateb0undary--",
                        "--aigateb0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-roles\r\n"
                                + "--aigateb0undary--");
        refused(post("/openai/v1/audio/transcriptions", FORM, twice), 400);
        refused(post("/openai/v1/audio/transcriptions", FORM, form(null)), 400);
        refused(post("/openai/v1/audio/transcriptions", FORM, form("gpt roles")), 400);
        refused(post("/openai/v1/audio/transcriptions", FORM + "; boundary=other", form("gpt-4o-mini")), 400);
        refused(post("/openai/v1/audio/transcriptions", "application/x-www-form-urlencoded", "model=gpt-roles"), 400);
        // on the classic path too: the deployment is in the path, but the form is read one way or not at all
        refused(post("/openai/deployments/gpt-4o-mini/audio/transcriptions", FORM, twice), 400);
        backendUntouched("an ambiguous form");
    }

    @Test
    void aMemberThatNamesTheDeploymentOtherwiseGetsItsNameInTheForm() throws Exception {
        assertEquals(
                200,
                post("/openai/v1/audio/transcriptions", FORM, form("gpt-renamed"))
                        .statusCode());
        assertEquals(form("east-name"), CloudDoubles.openAi.next(5).body());
    }

    @Test
    void aMemberThatNamesTheDeploymentOtherwiseGetsItsNameInTheJson() throws Exception {
        String body = "{\"model\":\"gpt-renamed\",\"messages\":[{\"role\":\"user\",\"content\":\"hi \\ud800\"}]}";
        assertEquals(
                200,
                post("/openai/v1/chat/completions", "application/json", body).statusCode());
        JsonObject sent = new JsonObject(CloudDoubles.openAi.next(5).body());
        assertEquals("east-name", sent.getString("model"), "the member's own name, never the caller's");
        assertEquals(
                "hi \ud800",
                sent.getJsonArray("messages").getJsonObject(0).getString("content"),
                "the rest of what was judged, unchanged");
    }

    /** The Responses API stores by default: silence must not keep state that a later request could name. */
    @Test
    void aResponseIsNotStoredUnlessTheRouteGrantsStore() throws Exception {
        for (String body : List.of(
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\"}",
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"store\":null}",
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"Store\":false}")) {
            assertEquals(
                    200, post("/openai/v1/responses", "application/json", body).statusCode(), body);
            JsonObject sent = new JsonObject(CloudDoubles.openAi.next(5).body());
            assertEquals(Boolean.FALSE, sent.getValue("store"), body);
            assertNull(sent.getValue("Store"), body);
            assertEquals("hi", sent.getString("input"));
        }
        refused(post("/openai/v1/responses", "application/json", "{\"model\":\"gpt-4o-mini\",\"store\":true}"), 400);
        backendUntouched("a stored response on a route that does not grant store");
    }

    @Test
    void bodyFieldsThatReachBeyondTheCallerAreRefusedUnlessTheRouteGrantsThem() throws Exception {
        String onYourData = "{\"model\":\"%s\",\"messages\":[],\"Data_Sources\":[{\"type\":\"azure_search\","
                + "\"parameters\":{\"endpoint\":\"https://other-team.search.windows.net\"}}]}";
        HttpResponse<String> refusal =
                post("/openai/v1/chat/completions", "application/json", onYourData.formatted("gpt-4o-mini"));
        refused(refusal, 400);
        String message = new JsonObject(refusal.body()).getString("message");
        assertTrue(
                message.contains("data_sources") && message.contains("aigate.routes.default.body-features"), message);
        refused(
                post(
                        "/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21",
                        "application/json",
                        onYourData.formatted("gpt-4o-mini")),
                400);
        for (String body : List.of(
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"background\":true}",
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"previous_response_id\":\"resp_other_team\"}",
                "{\"model\":\"gpt-4o-mini\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_file\","
                        + "\"file_id\":\"file-other-team\"}]}]}",
                "{\"model\":\"gpt-4o-mini\",\"input\":\"hi\",\"tools\":[{\"type\":\"mcp\",\"server_label\":\"x\","
                        + "\"server_url\":\"https://attacker.example/mcp\"}]}",
                "{\"model\":\"gpt-rag\",\"input\":\"hi\",\"tools\":[{\"type\":\"code_interpreter\"}]}")) {
            refused(post("/openai/v1/responses", "application/json", body), 400);
        }
        backendUntouched("a body reaching beyond its caller");

        // granted on its route, feature by feature
        assertEquals(
                200,
                post("/openai/v1/chat/completions", "application/json", onYourData.formatted("gpt-rag"))
                        .statusCode());
        CloudDoubles.openAi.next(5);
        String search = "{\"model\":\"gpt-rag\",\"input\":\"hi\",\"tools\":[{\"type\":\"file_search\","
                + "\"vector_store_ids\":[\"vs_1\"]}]}";
        assertEquals(
                200, post("/openai/v1/responses", "application/json", search).statusCode());
        assertEquals(
                search.substring(0, search.length() - 1) + ",\"store\":false}",
                CloudDoubles.openAi.next(5).body(),
                "what was granted passes as sent; only store is said");
    }
}
