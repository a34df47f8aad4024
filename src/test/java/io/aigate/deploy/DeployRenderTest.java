package io.aigate.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.aigate.inject.InjectCommand;
import io.aigate.inject.PodMutator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Every kustomization under deploy/ renders offline with {@code kubectl kustomize} and parses into valid Kubernetes
 * objects (fabric8's model; cert-manager's kinds as generic resources); the webhook registration points at the
 * injector; and the sample apps, run through the webhook configured exactly as the rendered injector is, get a
 * sidecar whose image, ConfigMaps and identity all exist in what was rendered.
 */
class DeployRenderTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static List<HasMetadata> render(String dir) throws Exception {
        List<HasMetadata> objects = new ArrayList<>();
        for (String doc : renderText(dir).split("(?m)^---\\s*$")) {
            if (doc.isBlank()) {
                continue;
            }
            HasMetadata object = Serialization.unmarshal(doc, HasMetadata.class);
            assertNotNull(object.getMetadata().getName(), "every object has a name: " + doc);
            assertFalse(object.getApiVersion() == null || object.getKind() == null, doc);
            boolean clusterScoped = object instanceof Namespace || object instanceof MutatingWebhookConfiguration;
            assertEquals(
                    clusterScoped,
                    object.getMetadata().getNamespace() == null,
                    object.getKind() + "/" + object.getMetadata().getName() + " namespace");
            objects.add(object);
        }
        return objects;
    }

    /** What {@code kubectl apply -k dir} applies: plain kustomize, no flags (GitOps tools run it the same way). */
    static String renderText(String dir) throws Exception {
        String kubectl = onPath("kubectl");
        // Debian's own kubectl (1.20) embeds kustomize v2, which predates the fields and flags every current
        // kubectl understands; such a machine cannot judge these manifests either way
        Process version = new ProcessBuilder(kubectl, "version", "--client")
                .redirectErrorStream(true)
                .start();
        String v = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        version.waitFor(30, TimeUnit.SECONDS);
        java.util.regex.Matcher kustomize =
                java.util.regex.Pattern.compile("Kustomize Version: v(\\d+)").matcher(v);
        Assumptions.assumeTrue(
                kustomize.find() && Integer.parseInt(kustomize.group(1)) >= 4,
                "kubectl's kustomize is older than v4 (" + v.trim() + "): install a current kubectl to render deploy/");
        Process p = new ProcessBuilder(kubectl, "kustomize", dir)
                .redirectError(ProcessBuilder.Redirect.PIPE)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), dir + " does not render: " + err);
        return out;
    }

    static String onPath(String command) {
        for (String dir : System.getenv("PATH").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return Path.of(dir, command).toString();
            }
        }
        Assumptions.abort(
                command + " is not installed: .ci/run installs it; without it deploy/ cannot be rendered here");
        return null;
    }

    @SuppressWarnings("unchecked")
    static <T extends HasMetadata> T find(List<HasMetadata> objects, Class<T> type, String namespace, String name) {
        Optional<HasMetadata> found = objects.stream()
                .filter(type::isInstance)
                .filter(o -> name.equals(o.getMetadata().getName()))
                .filter(o ->
                        namespace == null || namespace.equals(o.getMetadata().getNamespace()))
                .findFirst();
        assertTrue(found.isPresent(), type.getSimpleName() + " " + namespace + "/" + name + " is not rendered");
        return (T) found.get();
    }

    static List<String> kinds(List<HasMetadata> objects) {
        return objects.stream().map(HasMetadata::getKind).toList();
    }

    @Test
    void theBaseInstallsTheInjectorItsWebhookAndItsCertificate() throws Exception {
        List<HasMetadata> base = render("deploy/base");
        Deployment injector = find(base, Deployment.class, "aigate-system", "aigate-injector");
        Container container =
                injector.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("inject", container.getArgs().get(0));
        assertTrue(container.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(2, injector.getSpec().getReplicas());

        MutatingWebhookConfiguration webhook = find(base, MutatingWebhookConfiguration.class, null, "aigate-injector");
        assertEquals(
                "aigate-system/aigate-injector",
                webhook.getMetadata().getAnnotations().get("cert-manager.io/inject-ca-from"));
        assertEquals(
                List.of("Fail", "Ignore", "Fail"),
                webhook.getWebhooks().stream()
                        .map(MutatingWebhook::getFailurePolicy)
                        .toList());
        assertEquals(
                List.of("/mutate", "/mutate", "/mutate/sidecar-only"),
                webhook.getWebhooks().stream()
                        .map(h -> h.getClientConfig().getService().getPath())
                        .toList());
        for (MutatingWebhook hook : webhook.getWebhooks()) {
            assertEquals("aigate-injector", hook.getClientConfig().getService().getName());
            assertEquals("aigate-system", hook.getClientConfig().getService().getNamespace());
            assertEquals("None", hook.getSideEffects());
            assertTrue(
                    hook.getRules().stream().anyMatch(r -> r.getResources().contains("pods/ephemeralcontainers")),
                    hook.getName() + " judges debug containers too");
            // a pod of a sidecar-only namespace is judged by that registration alone, so exactly once
            boolean sidecarOnly = hook.getClientConfig().getService().getPath().endsWith("sidecar-only");
            String selector = hook.getNamespaceSelector().getMatchExpressions().stream()
                    .filter(e -> e.getKey().equals("aigate.io/identity"))
                    .map(e -> e.getOperator() + e.getValues())
                    .findFirst()
                    .orElse("none");
            assertEquals(sidecarOnly ? "In[sidecar-only]" : "NotIn[sidecar-only]", selector, hook.getName());
        }
        // what no update may do to a running pod's aigate is decided inside the API server, whatever the injector's
        // state
        java.util.Map<String, String> guards = new java.util.TreeMap<>();
        for (HasMetadata o : base) {
            if (o.getKind().startsWith("ValidatingAdmissionPolicy")) {
                guards.put(o.getKind(), o.getMetadata().getName());
            }
        }
        assertEquals(
                java.util.Map.of(
                        "ValidatingAdmissionPolicy", "aigate-sidecar-guard",
                        "ValidatingAdmissionPolicyBinding", "aigate-sidecar-guard"),
                guards);
        String guard = Files.readString(Path.of("deploy/base/sidecar-guard.yaml"));
        assertTrue(guard.contains("operations: [\"UPDATE\"]") && guard.contains("validationActions: [Deny]"), guard);
        // the injector's limit is above the peak bench/injector-flood.sh measured (176 MB) with the shipped flags
        assertEquals("256Mi", container.getResources().getLimits().get("memory").toString());
        GenericKubernetesResource certificate = (GenericKubernetesResource) base.stream()
                .filter(o -> "Certificate".equals(o.getKind()))
                .findFirst()
                .orElseThrow();
        assertEquals(
                "aigate-injector-tls",
                ((java.util.Map<?, ?>) certificate.getAdditionalProperties().get("spec")).get("secretName"));
        assertEquals(
                "aigate-injector-tls",
                injector.getSpec().getTemplate().getSpec().getVolumes().stream()
                        .filter(v -> v.getSecret() != null)
                        .findFirst()
                        .orElseThrow()
                        .getSecret()
                        .getSecretName());
        assertTrue(
                kinds(base)
                        .containsAll(List.of(
                                "Issuer",
                                "Service",
                                "PodDisruptionBudget",
                                "ServiceAccount",
                                "Namespace",
                                "ConfigMap")),
                kinds(base).toString());

        // the ConfigMap is the top-level application.properties, byte for byte
        ConfigMap config = find(base, ConfigMap.class, "aigate-system", "aigate-config");
        assertEquals(
                Files.readString(Path.of("application.properties")),
                config.getData().get("application.properties"));
    }

    /** Runs the sample app's pod through the webhook, configured by the rendered injector's own arguments. */
    static Pod inject(List<HasMetadata> objects, String namespace, String app) throws Exception {
        Deployment injector = find(objects, Deployment.class, "aigate-system", "aigate-injector");
        List<String> args = injector.getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getArgs();
        PodMutator webhook = new PodMutator(
                InjectCommand.settings(args.subList(1, args.size()).toArray(String[]::new)));
        Deployment deployment = find(objects, Deployment.class, namespace, app);
        JsonNode pod = JSON.readTree(Serialization.asJson(new io.fabric8.kubernetes.api.model.PodBuilder()
                .withMetadata(deployment.getSpec().getTemplate().getMetadata())
                .withSpec(deployment.getSpec().getTemplate().getSpec())
                .build()));
        ArrayNode patch = webhook.patch(pod, namespace);
        assertFalse(patch.isEmpty(), app + " is not injected");
        Pod injected = Serialization.unmarshal(JsonPatch.apply(patch, pod).toString(), Pod.class);
        Container sidecar = injected.getSpec().getInitContainers().get(0);
        assertEquals("aigate", sidecar.getName());
        assertEquals("Always", sidecar.getRestartPolicy());
        // the sidecar runs the image the injector itself runs, and mounts what the overlay renders in its namespace
        assertEquals(
                injector.getSpec()
                        .getTemplate()
                        .getSpec()
                        .getContainers()
                        .get(0)
                        .getImage(),
                sidecar.getImage());
        String configMap = injected.getSpec().getVolumes().stream()
                .filter(v -> v.getConfigMap() != null)
                .filter(v -> "aigate-config".equals(v.getName()))
                .findFirst()
                .orElseThrow()
                .getConfigMap()
                .getName();
        ConfigMap config = find(objects, ConfigMap.class, namespace, configMap);
        assertEquals(
                Files.readString(Path.of("application.properties")),
                config.getData().get("application.properties"));
        String envMap = sidecar.getEnvFrom().get(0).getConfigMapRef().getName();
        find(objects, ConfigMap.class, namespace, envMap);
        assertEquals(
                "http://localhost:8080",
                injected.getSpec().getContainers().get(0).getEnv().stream()
                        .filter(e -> "AZURE_OPENAI_ENDPOINT".equals(e.getName()))
                        .findFirst()
                        .orElseThrow()
                        .getValue());
        return injected;
    }

    @Test
    void theDevOverlayGetsItsSampleAppInjectedAgainstItsOwnRedisAndBackend() throws Exception {
        List<HasMetadata> dev = render("deploy/overlays/dev");
        inject(dev, "aigate-demo", "chat-demo");
        ConfigMap env = find(dev, ConfigMap.class, "aigate-demo", "aigate-env");
        String redis = env.getData().get("AIGATE_REDIS_URL");
        assertTrue(redis.startsWith("redis://redis.aigate-demo.svc:"), redis);
        find(dev, io.fabric8.kubernetes.api.model.Service.class, "aigate-demo", "redis");
        find(dev, io.fabric8.kubernetes.api.model.Service.class, "aigate-demo", "fake-openai");
        assertTrue(env.getData().get("AZURE_OPENAI_BACKEND_URL").startsWith("http://fake-openai.aigate-demo.svc"));
    }

    @Test
    void theConfigMapsCopyIsTheTopLevelApplicationProperties() throws Exception {
        assertEquals(
                Files.readString(Path.of("application.properties")),
                Files.readString(Path.of("deploy/config/application.properties")),
                "deploy/config/application.properties differs: cp application.properties deploy/config/");
    }

    @Test
    void theAzureOverlayHoldsNoSecretAndOnlyAigateGetsTheIdentity() throws Exception {
        String rendered = renderText("deploy/overlays/azure");
        List<HasMetadata> azure = render("deploy/overlays/azure");
        assertFalse(kinds(azure).contains("Secret"), kinds(azure).toString());
        // the injector's own TLS Secret is cert-manager's, mounted by name; nothing else names a secret or password
        String withoutInjectorTls = rendered.replace("aigate-injector-tls", "");
        for (String forbidden : List.of("secretRef", "secretKeyRef", "PASSWORD", "password:", "kind: Secret")) {
            assertFalse(withoutInjectorTls.contains(forbidden), forbidden + " in the azure overlay");
        }
        Pod injected = inject(azure, "ai-apps", "chat-app");
        assertTrue(
                injected.getSpec().getInitContainers().get(0).getEnvFrom().stream()
                        .allMatch(from -> from.getSecretRef() == null),
                "the sidecar is offered no Secret");
        // through both webhooks, either order: the app containers end with no identity, aigate with it
        JsonNode pod = JSON.readTree(Serialization.asJson(injected));
        io.aigate.inject.WorkloadIdentityOrderTest.onlyAigateHoldsTheIdentity(
                io.aigate.inject.WorkloadIdentityOrderTest.workloadIdentityWebhook(pod));
        ConfigMap env = find(azure, ConfigMap.class, "ai-apps", "aigate-env");
        assertEquals("managed-identity", env.getData().get("AIGATE_REDIS_CREDENTIAL"));
    }

    @Test
    void theAzureOverlayUsesTlsRedisAndTheAppsWorkloadIdentity() throws Exception {
        List<HasMetadata> azure = render("deploy/overlays/azure");
        Pod injected = inject(azure, "ai-apps", "chat-app");
        assertEquals("true", injected.getMetadata().getLabels().get("azure.workload.identity/use"));
        ServiceAccount account =
                find(azure, ServiceAccount.class, "ai-apps", injected.getSpec().getServiceAccountName());
        assertNotNull(account.getMetadata().getAnnotations().get("azure.workload.identity/client-id"));
        ConfigMap env = find(azure, ConfigMap.class, "ai-apps", "aigate-env");
        assertTrue(env.getData().get("AIGATE_REDIS_URL").startsWith("rediss://"), "Azure Cache for Redis over TLS");
        assertTrue(env.getData().get("AZURE_OPENAI_BACKEND_URL").startsWith("https://"));
        assertInstanceOf(Deployment.class, find(azure, Deployment.class, "aigate-system", "aigate-injector"));
    }
}
