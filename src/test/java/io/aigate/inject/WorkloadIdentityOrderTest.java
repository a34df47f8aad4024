package io.aigate.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The pod as the API server builds it from both mutating webhooks, in either order and with reinvocation (both are
 * {@code reinvocationPolicy: IfNeeded}): the workload identity always ends with aigate alone. The Azure Workload
 * Identity webhook is replayed as v1.6.0 implements it (pkg/webhook/webhook.go): every container not in
 * {@code skip-containers} gets the four variables it lacks and the token mount; the pod gets the projected volume.
 */
public class WorkloadIdentityOrderTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final PodMutator AIGATE = new PodMutator(InjectorSettings.defaults("ghcr.io/aigate/aigate:0.1.0"));
    static final String VOLUME = "azure-workload-identity-reserved-0123456789abcdef0123456789abcd";
    static final String MOUNT_PATH = "/var/run/secrets/azure/wi";
    static final String TOKEN_FILE = MOUNT_PATH + "/token/azure-identity-token";

    /** The Azure Workload Identity webhook's mutation of a pod. */
    public static JsonNode workloadIdentityWebhook(JsonNode original) {
        ObjectNode pod = original.deepCopy();
        Set<String> skip = Arrays.stream(pod.path("metadata")
                        .path("annotations")
                        .path(PodMutator.SKIP_CONTAINERS)
                        .asText("")
                        .split(";"))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode node : pod.path("spec").path(list)) {
                ObjectNode container = (ObjectNode) node;
                if (skip.contains(container.path("name").asText())) {
                    continue;
                }
                ArrayNode env = container.has("env") ? (ArrayNode) container.get("env") : container.putArray("env");
                List<String> present = new ArrayList<>();
                env.forEach(e -> present.add(e.path("name").asText()));
                String[][] desired = {
                    {"AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555"},
                    {"AZURE_TENANT_ID", "66666666-7777-8888-9999-000000000000"},
                    {"AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE},
                    {"AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"}
                };
                for (String[] variable : desired) {
                    if (!present.contains(variable[0])) {
                        env.addObject().put("name", variable[0]).put("value", variable[1]);
                    }
                }
                ArrayNode mounts = container.has("volumeMounts")
                        ? (ArrayNode) container.get("volumeMounts")
                        : container.putArray("volumeMounts");
                ObjectNode mount = JSON.createObjectNode()
                        .put("name", VOLUME)
                        .put("mountPath", MOUNT_PATH)
                        .put("readOnly", true);
                boolean replaced = false;
                for (int i = 0; i < mounts.size(); i++) {
                    if (VOLUME.equals(mounts.get(i).path("name").asText())) {
                        mounts.set(i, mount);
                        replaced = true;
                    }
                }
                if (!replaced) {
                    mounts.add(mount);
                }
            }
        }
        ObjectNode spec = (ObjectNode) pod.get("spec");
        ArrayNode volumes = spec.has("volumes") ? (ArrayNode) spec.get("volumes") : spec.putArray("volumes");
        boolean hasVolume = false;
        for (JsonNode volume : volumes) {
            hasVolume |= VOLUME.equals(volume.path("name").asText());
        }
        if (!hasVolume) {
            volumes.addObject()
                    .put("name", VOLUME)
                    .putObject("projected")
                    .putArray("sources")
                    .addObject()
                    .putObject("serviceAccountToken")
                    .put("path", "token/azure-identity-token")
                    .put("audience", "api://AzureADTokenExchange")
                    .put("expirationSeconds", 3600);
        }
        return pod;
    }

    static JsonNode aigate(JsonNode pod) {
        return JsonPatch.apply(AIGATE.patch(pod, "team-a"), pod);
    }

    /** A third webhook (a service mesh) adding its own sidecar after aigate ran. */
    static JsonNode mesh(JsonNode original) {
        ObjectNode pod = original.deepCopy();
        ((ArrayNode) pod.path("spec").path("containers"))
                .addObject()
                .put("name", "istio-proxy")
                .put("image", "istio");
        return pod;
    }

    /** The API server's order of calls: each webhook once, then those that asked for reinvocation again. */
    static JsonNode admit(JsonNode pod, List<UnaryOperator<JsonNode>> webhooks) {
        JsonNode current = pod;
        for (int round = 0; round < 2; round++) {
            for (UnaryOperator<JsonNode> webhook : webhooks) {
                current = webhook.apply(current);
            }
        }
        return current;
    }

    static JsonNode pod(String fixture) throws IOException {
        return JSON.readTree(Files.readAllBytes(Path.of("src/test/resources/inject", fixture)))
                .path("request")
                .path("object");
    }

    /** aigate holds the token and every variable pointing at it; no other container holds either. */
    public static void onlyAigateHoldsTheIdentity(JsonNode pod) {
        int holders = 0;
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode container : pod.path("spec").path(list)) {
                boolean env = false;
                for (JsonNode variable : container.path("env")) {
                    env |= PodMutator.WORKLOAD_IDENTITY_ENV.contains(
                            variable.path("name").asText());
                }
                boolean mount = false;
                for (JsonNode m : container.path("volumeMounts")) {
                    mount |= m.path("name").asText().startsWith("azure-workload-identity-reserved-")
                            || m.path("name").asText().equals("azure-identity-token");
                }
                String name = container.path("name").asText();
                if (PodMutator.CONTAINER.equals(name)) {
                    assertTrue(env && mount, "aigate holds the identity: " + container);
                    holders++;
                } else {
                    assertFalse(env || mount, name + " must not hold the identity: " + container);
                }
            }
        }
        assertEquals(1, holders);
    }

    @Test
    void aigateFirstThenTheWorkloadIdentityWebhook() throws IOException {
        JsonNode done = admit(
                pod("workload-identity-aigate-first.review.json"),
                List.of(WorkloadIdentityOrderTest::aigate, WorkloadIdentityOrderTest::workloadIdentityWebhook));
        onlyAigateHoldsTheIdentity(done);
        assertEquals(0, AIGATE.patch(done, "team-a").size(), "a further reinvocation changes nothing");
    }

    @Test
    void theWorkloadIdentityWebhookFirstThenAigate() throws IOException {
        for (String fixture : List.of(
                "workload-identity-aigate-first.review.json",
                "workload-identity.review.json",
                "workload-identity-v16-first.review.json")) {
            JsonNode done = admit(
                    pod(fixture),
                    List.of(WorkloadIdentityOrderTest::workloadIdentityWebhook, WorkloadIdentityOrderTest::aigate));
            onlyAigateHoldsTheIdentity(done);
            assertEquals(0, AIGATE.patch(done, "team-a").size(), fixture + ": a further reinvocation changes nothing");
        }
    }

    @Test
    void aSidecarAnotherWebhookAddsLaterIsKeptFromTheIdentityToo() throws IOException {
        JsonNode done = admit(
                pod("workload-identity-aigate-first.review.json"),
                List.of(
                        WorkloadIdentityOrderTest::aigate,
                        WorkloadIdentityOrderTest::mesh,
                        WorkloadIdentityOrderTest::workloadIdentityWebhook));
        onlyAigateHoldsTheIdentity(done);
        String skipped = done.path("metadata")
                .path("annotations")
                .path(PodMutator.SKIP_CONTAINERS)
                .asText();
        assertTrue(Arrays.asList(skipped.split(";")).containsAll(List.of("app", "istio-proxy")), skipped);
    }

    @Test
    void anAppThatMustShareTheIdentitySaysSoAndKeepsIt() throws IOException {
        ObjectNode pod = (ObjectNode) pod("workload-identity.review.json");
        ((ObjectNode) pod.path("metadata")).putObject("annotations").put(PodMutator.APP_IDENTITY, "shared");
        // only where a cluster admin allowed it (elsewhere refused: golden hostile-app-identity-shared)
        PodMutator allowing = new PodMutator(InjectCommand.settings(
                "--image", "ghcr.io/aigate/aigate:0.1.0", "--app-identity-namespaces", "team-a"));
        UnaryOperator<JsonNode> aigate = p -> JsonPatch.apply(allowing.patch(p, "team-a"), p);
        JsonNode done = admit(pod, List.of(WorkloadIdentityOrderTest::workloadIdentityWebhook, aigate));
        JsonNode app = done.path("spec").path("containers").get(0);
        assertTrue(app.path("env").toString().contains("AZURE_FEDERATED_TOKEN_FILE"), "the app kept it: " + app);
        assertFalse(done.path("metadata").path("annotations").has(PodMutator.SKIP_CONTAINERS));
    }
}
