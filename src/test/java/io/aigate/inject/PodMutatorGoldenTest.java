package io.aigate.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * As the Linkerd proxy-injector tests do it: an AdmissionReview fixture in ({@code <case>.review.json}), the decision
 * and JSONPatch compared with a golden file ({@code <case>.expected.json}). A changed golden file is a reviewed
 * change: regenerate with {@code ./mvnw test -Dtest=PodMutatorGoldenTest -Daigate.golden.update=true} and read the
 * diff. Every patch is also applied to its pod, which must then parse as a Kubernetes Pod with aigate first.
 */
class PodMutatorGoldenTest {

    static final Path FIXTURES = Path.of("src/test/resources/inject");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Configured as a cluster admin might: a second ConfigMap allowed, app identity allowed in one namespace. */
    static final PodMutator MUTATOR = new PodMutator(InjectCommand.settings(
            "--image",
            "ghcr.io/aigate/aigate:0.1.0",
            "--allowed-config-maps",
            "aigate-config,aigate-research",
            "--app-identity-namespaces",
            "team-shared"));

    static Stream<String> cases() throws IOException {
        try (Stream<Path> files = Files.list(FIXTURES)) {
            return files
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".review.json"))
                    .map(n -> n.substring(0, n.length() - ".review.json".length()))
                    .sorted()
                    .toList()
                    .stream();
        }
    }

    /** The review's answer with the patch decoded, so a golden file is readable and its diff reviewable. */
    static ObjectNode decision(JsonNode answer) throws IOException {
        JsonNode response = answer.path("response");
        ObjectNode decision = JSON.createObjectNode();
        decision.put("uid", response.path("uid").asText());
        decision.put("allowed", response.path("allowed").asBoolean());
        if (response.has("status")) {
            decision.put("message", response.path("status").path("message").asText());
        }
        if (response.has("patch")) {
            assertEquals("JSONPatch", response.path("patchType").asText());
            decision.set(
                    "patch",
                    JSON.readTree(
                            Base64.getDecoder().decode(response.path("patch").asText())));
        }
        return decision;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesItsGoldenFile(String name) throws IOException {
        byte[] review = Files.readAllBytes(FIXTURES.resolve(name + ".review.json"));
        JsonNode answer = MUTATOR.review(review, guarded(name));
        assertEquals("AdmissionReview", answer.path("kind").asText());
        ObjectNode decision = decision(answer);
        Path golden = FIXTURES.resolve(name + ".expected.json");
        if (Boolean.getBoolean("aigate.golden.update")) {
            Files.writeString(golden, JSON.writeValueAsString(decision) + "\n");
        }
        assertTrue(Files.exists(golden), "no golden file for " + name);
        assertEquals(JSON.readTree(golden.toFile()), decision, name + ": the webhook's answer changed");

        if (decision.has("patch")) {
            JsonNode pod = JSON.readTree(review).path("request").path("object");
            JsonNode patched = JsonPatch.apply(decision.get("patch"), pod);
            Pod parsed = Serialization.unmarshal(patched.toString(), Pod.class);
            Container first = parsed.getSpec().getInitContainers().get(0);
            assertEquals(PodMutator.CONTAINER, first.getName());
            assertEquals("Always", first.getRestartPolicy(), "a native sidecar");
            assertTrue(first.getSecurityContext().getReadOnlyRootFilesystem());
            assertFalse(first.getSecurityContext().getAllowPrivilegeEscalation());
            assertTrue(first.getSecurityContext().getRunAsNonRoot());
            assertEquals(
                    "ALL",
                    first.getSecurityContext().getCapabilities().getDrop().get(0));
            assertNotNull(first.getStartupProbe());
            assertEquals("injected", parsed.getMetadata().getAnnotations().get(PodMutator.STATUS));
            // reinvocation is idempotent: the patched pod gets no second patch
            String namespace =
                    JSON.readTree(review).path("request").path("namespace").asText();
            assertEquals(0, MUTATOR.patch(patched, namespace, guarded(name)).size());
            if ("true"
                            .equals(
                                    parsed.getMetadata().getLabels() == null
                                            ? null
                                            : parsed.getMetadata().getLabels().get("azure.workload.identity/use"))
                    && !name.startsWith("app-identity-shared")) {
                WorkloadIdentityOrderTest.onlyAigateHoldsTheIdentity(
                        WorkloadIdentityOrderTest.workloadIdentityWebhook(patched));
            }
        }
    }

    /** Fixtures named guarded-… arrive as through the registration for namespaces labelled sidecar-only. */
    static boolean guarded(String name) {
        return name.startsWith("guarded-");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void neverAnswersWithoutAReviewAndNeverLeaksAStackTrace(String name) throws IOException {
        JsonNode answer = MUTATOR.review(Files.readAllBytes(FIXTURES.resolve(name + ".review.json")), guarded(name));
        String text = answer.toString();
        assertFalse(text.contains("at io.") || text.contains("Exception:"), text);
        assertTrue(answer.path("response").has("allowed"));
    }

    static String read(String name) throws IOException {
        return Files.readString(FIXTURES.resolve(name), StandardCharsets.UTF_8);
    }
}
