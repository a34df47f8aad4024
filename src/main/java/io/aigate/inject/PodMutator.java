package io.aigate.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The mutating webhook's decision, a pure function: an AdmissionReview in, an AdmissionReview out, with a JSONPatch
 * that adds aigate to the pod as a native sidecar (an init container with {@code restartPolicy: Always}, Kubernetes
 * 1.29+: it starts before the app and stops after it). Pods opt in with the label or annotation
 * {@code aigate.io/inject: "true"}; {@code "false"}, an excluded namespace, or a pod that already has aigate
 * (idempotent under reinvocation) is allowed unchanged. Nothing here can throw at a caller: a review that cannot be
 * read gets a refusal that says why.
 */
public final class PodMutator {

    public static final String INJECT = "aigate.io/inject";
    public static final String STATUS = "aigate.io/status";
    public static final String IMAGE = "aigate.io/image";
    public static final String CONFIG_MAP = "aigate.io/config-map";
    public static final String ROUTES = "aigate.io/routes";
    public static final String SET_ENDPOINT = "aigate.io/set-endpoint";
    public static final String CPU_REQUEST = "aigate.io/cpu-request";
    public static final String MEMORY_REQUEST = "aigate.io/memory-request";
    public static final String CPU_LIMIT = "aigate.io/cpu-limit";
    public static final String MEMORY_LIMIT = "aigate.io/memory-limit";
    public static final String CONTAINER = "aigate";
    /**
     * {@code "shared"} leaves the pod's workload identity with the app containers too. Only for an app that needs the
     * identity for other Azure services and whose identity may call the backend directly anyway: it undoes layer 3.
     */
    public static final String APP_IDENTITY = "aigate.io/app-identity";

    static final String WORKLOAD_IDENTITY = "azure.workload.identity/use";
    /** The Azure Workload Identity webhook leaves these containers alone (names separated by {@code ;}). */
    static final String SKIP_CONTAINERS = "azure.workload.identity/skip-containers";
    /** The variables the Azure Workload Identity webhook gives a container (v1.6: four, and four for a custom endpoint). */
    static final List<String> WORKLOAD_IDENTITY_ENV = List.of(
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_FEDERATED_TOKEN_FILE",
            "AZURE_AUTHORITY_HOST",
            "AZURE_KUBERNETES_TOKEN_PROXY",
            "AZURE_KUBERNETES_SNI_NAME",
            "AZURE_KUBERNETES_CA_FILE",
            "AZURE_KUBERNETES_CA_DATA");
    /** Its token volume: {@code azure-identity-token} before v1.5, {@code azure-workload-identity-reserved-<hash>} since. */
    static final List<String> WORKLOAD_IDENTITY_VOLUMES =
            List.of("azure-identity-token", "azure-workload-identity-reserved-");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|k|M|G)?");
    private static final Pattern IMAGE_REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}");
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
    private static final Pattern ROUTE_LIST = Pattern.compile("[A-Za-z0-9._-]+(,[A-Za-z0-9._-]+)*");

    private final InjectorSettings settings;

    public PodMutator(InjectorSettings settings) {
        this.settings = settings;
    }

    /** A refusal the caller (the API server, and the person reading its event) can act on. */
    static final class Refusal extends RuntimeException {
        Refusal(String message) {
            super(message, null, false, false);
        }
    }

    /** The answer to one AdmissionReview (bytes as received); never throws. */
    public JsonNode review(byte[] body) {
        JsonNode review;
        try {
            review = JSON.readTree(body);
        } catch (Exception e) {
            return answer("", false, "the request body is not JSON: send an admission.k8s.io/v1 AdmissionReview", null);
        }
        String uid = review == null ? "" : review.path("request").path("uid").asText("");
        try {
            if (review == null || !review.isObject() || !review.path("request").isObject()) {
                throw new Refusal("not an AdmissionReview: the request field is missing");
            }
            if (uid.isEmpty()) {
                throw new Refusal("the AdmissionReview request has no uid");
            }
            JsonNode request = review.path("request");
            if (!"Pod".equals(request.path("kind").path("kind").asText())) {
                return answer(uid, true, null, null); // only pods are ours; anything else passes untouched
            }
            JsonNode pod = request.path("object");
            if (!pod.isObject()
                    || !pod.path("spec").isObject()
                    || !pod.path("spec").path("containers").isArray()) {
                throw new Refusal("the AdmissionReview carries no pod with spec.containers");
            }
            String namespace = request.path("namespace")
                    .asText(pod.path("metadata").path("namespace").asText(""));
            ArrayNode patch = patch(pod, namespace);
            return answer(uid, true, null, patch.isEmpty() ? null : patch);
        } catch (Refusal refusal) {
            return answer(uid, false, refusal.getMessage(), null);
        } catch (RuntimeException e) {
            // fail closed with a reason, never a stack trace
            return answer(
                    uid, false, "aigate could not read the pod (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    /**
     * The JSONPatch for one pod; empty when it is not to be injected, or when it already is and its workload identity
     * is where it belongs (so a reinvocation changes nothing).
     */
    public ArrayNode patch(JsonNode pod, String namespace) {
        ArrayNode ops = NODES.arrayNode();
        JsonNode metadata = pod.path("metadata");
        JsonNode annotations = metadata.path("annotations");
        JsonNode labels = metadata.path("labels");
        String wanted = annotations.path(INJECT).asText(labels.path(INJECT).asText(""));
        if (!"true".equalsIgnoreCase(wanted)
                || settings.excludedNamespaces().contains(namespace)
                || "false".equalsIgnoreCase(labels.path(INJECT).asText(""))) {
            return ops;
        }
        Map<String, String> newAnnotations = new LinkedHashMap<>();
        // before the sidecar is added, while the pod's container indexes are still the pod's own
        keepIdentityFromApp(pod, ops, newAnnotations);
        if (!alreadyInjected(pod)) {
            inject(pod, ops);
            newAnnotations.put(STATUS, "injected");
        }
        if (!newAnnotations.isEmpty()) {
            if (annotations.isObject()) {
                newAnnotations.forEach((name, value) -> ops.add(op(
                        "add",
                        "/metadata/annotations/" + name.replace("~", "~0").replace("/", "~1"),
                        NODES.textNode(value))));
            } else {
                ObjectNode all = NODES.objectNode();
                newAnnotations.forEach(all::put);
                ops.add(op("add", "/metadata/annotations", all));
            }
        }
        return ops;
    }

    private void inject(JsonNode pod, ArrayNode ops) {
        JsonNode spec = pod.path("spec");
        JsonNode annotations = pod.path("metadata").path("annotations");
        ObjectNode sidecar = sidecar(pod);

        // first among the init containers: the others may call aigate too
        if (spec.path("initContainers").isArray()
                && !spec.path("initContainers").isEmpty()) {
            ops.add(op("add", "/spec/initContainers/0", sidecar));
        } else {
            ops.add(op("add", "/spec/initContainers", NODES.arrayNode().add(sidecar)));
        }
        ObjectNode volume = NODES.objectNode().put("name", "aigate-config");
        volume.putObject("configMap").put("name", annotation(pod, CONFIG_MAP, settings.configMap(), NAME));
        ObjectNode tmp = NODES.objectNode().put("name", "aigate-tmp");
        tmp.putObject("emptyDir").put("medium", "Memory").put("sizeLimit", "16Mi");
        if (spec.path("volumes").isArray()) {
            ops.add(op("add", "/spec/volumes/-", volume));
            ops.add(op("add", "/spec/volumes/-", tmp));
        } else {
            ops.add(op("add", "/spec/volumes", NODES.arrayNode().add(volume).add(tmp)));
        }
        if (!"false".equalsIgnoreCase(annotations.path(SET_ENDPOINT).asText(""))) {
            JsonNode containers = spec.path("containers");
            for (int i = 0; i < containers.size(); i++) {
                JsonNode env = containers.get(i).path("env");
                if (hasEnv(env, "AZURE_OPENAI_ENDPOINT")) {
                    continue; // the app set its own: never overwritten
                }
                ObjectNode endpoint = env("AZURE_OPENAI_ENDPOINT", settings.endpoint());
                if (env.isArray()) {
                    ops.add(op("add", "/spec/containers/" + i + "/env/-", endpoint));
                } else {
                    ops.add(op(
                            "add",
                            "/spec/containers/" + i + "/env",
                            NODES.arrayNode().add(endpoint)));
                }
            }
        }
    }

    /**
     * Under Azure Workload Identity the pod's federated token is the backend credential aigate exists to guard: an app
     * container holding it could exchange it for an Azure OpenAI token and skip every layer. So only aigate may have
     * it, whichever webhook runs first. The workload-identity webhook is told to skip every other container (it
     * reads the annotation when it runs after this one, and again when it is reinvoked); whatever it already gave
     * them (it ran first) is taken back here. Run again on its own output, this adds nothing.
     */
    private static void keepIdentityFromApp(JsonNode pod, ArrayNode ops, Map<String, String> newAnnotations) {
        JsonNode annotations = pod.path("metadata").path("annotations");
        if (!"true"
                        .equalsIgnoreCase(pod.path("metadata")
                                .path("labels")
                                .path(WORKLOAD_IDENTITY)
                                .asText(""))
                || "shared".equalsIgnoreCase(annotations.path(APP_IDENTITY).asText(""))) {
            return;
        }
        Set<String> skipped = new LinkedHashSet<>();
        for (String name : annotations.path(SKIP_CONTAINERS).asText("").split(";")) {
            if (!name.isBlank()) {
                skipped.add(name.trim());
            }
        }
        int before = skipped.size();
        for (String list : new String[] {"initContainers", "containers"}) {
            JsonNode containers = pod.path("spec").path(list);
            for (int i = containers.size() - 1; i >= 0; i--) {
                JsonNode container = containers.get(i);
                String name = container.path("name").asText("");
                if (CONTAINER.equals(name)) {
                    continue;
                }
                skipped.add(name);
                List<Integer> mounts = tokenMounts(container);
                JsonNode env = container.path("env");
                if (mounts.isEmpty() && !hasEnv(env, "AZURE_FEDERATED_TOKEN_FILE")) {
                    continue; // never given the identity (or the app's own variables, which are its business)
                }
                String at = "/spec/" + list + "/" + i;
                for (int j = env.size() - 1; j >= 0; j--) {
                    if (WORKLOAD_IDENTITY_ENV.contains(env.get(j).path("name").asText())) {
                        ops.add(op("remove", at + "/env/" + j, null));
                    }
                }
                mounts.stream()
                        .sorted(Comparator.reverseOrder())
                        .forEach(j -> ops.add(op("remove", at + "/volumeMounts/" + j, null)));
            }
        }
        if (skipped.size() > before) {
            newAnnotations.put(SKIP_CONTAINERS, String.join(";", skipped));
        }
    }

    /**
     * The indexes of the container's mounts of a workload-identity token volume (by its name in any webhook version,
     * or as the directory of {@code AZURE_FEDERATED_TOKEN_FILE}), the one holding that file first; empty when none.
     */
    private static List<Integer> tokenMounts(JsonNode container) {
        String tokenFile = null;
        for (JsonNode variable : container.path("env")) {
            if ("AZURE_FEDERATED_TOKEN_FILE".equals(variable.path("name").asText())) {
                tokenFile = variable.path("value").asText(null);
            }
        }
        List<Integer> found = new ArrayList<>();
        JsonNode mounts = container.path("volumeMounts");
        for (int i = 0; i < mounts.size(); i++) {
            String name = mounts.get(i).path("name").asText("");
            String path = mounts.get(i).path("mountPath").asText("");
            boolean holdsTheFile = tokenFile != null
                    && !path.isEmpty()
                    && tokenFile.startsWith(path.endsWith("/") ? path : path + "/");
            if (holdsTheFile) {
                found.add(0, i);
            } else if (name.equals(WORKLOAD_IDENTITY_VOLUMES.get(0))
                    || name.startsWith(WORKLOAD_IDENTITY_VOLUMES.get(1))) {
                found.add(i);
            }
        }
        return found;
    }

    /** The sidecar container: the same spec for every pod but for what its annotations override. */
    private ObjectNode sidecar(JsonNode pod) {
        ObjectNode c = NODES.objectNode();
        c.put("name", CONTAINER);
        String image = annotation(pod, IMAGE, settings.image(), IMAGE_REF);
        c.put("image", image);
        c.put("restartPolicy", "Always");
        ArrayNode ports = c.putArray("ports");
        ports.addObject().put("name", "aigate-mgmt").put("containerPort", InjectorSettings.MANAGEMENT_PORT);
        ArrayNode env = c.putArray("env");
        String routes = pod.path("metadata").path("annotations").path(ROUTES).asText("");
        if (!routes.isEmpty()) {
            if (!ROUTE_LIST.matcher(routes).matches()) {
                throw new Refusal(
                        "annotation " + ROUTES + " must be route names separated by commas, e.g. default,gpt4");
            }
            env.add(env("AIGATE_ENABLED_ROUTES", routes));
        }
        JsonNode tokenMount = copyWorkloadIdentity(pod, env);
        ArrayNode envFrom = c.putArray("envFrom");
        envFrom.addObject()
                .putObject("configMapRef")
                .put("name", settings.envConfigMap())
                .put("optional", true);
        if (!settings.envSecret().isEmpty()) {
            envFrom.addObject()
                    .putObject("secretRef")
                    .put("name", settings.envSecret())
                    .put("optional", true);
        }
        c.set("startupProbe", probe("/q/health/started", 1, 60));
        c.set("readinessProbe", probe("/q/health/ready", 5, 3));
        c.set("livenessProbe", probe("/q/health/live", 10, 3));
        ObjectNode resources = c.putObject("resources");
        resources
                .putObject("requests")
                .put("cpu", annotation(pod, CPU_REQUEST, settings.cpuRequest(), QUANTITY))
                .put("memory", annotation(pod, MEMORY_REQUEST, settings.memoryRequest(image), QUANTITY));
        resources
                .putObject("limits")
                .put("cpu", annotation(pod, CPU_LIMIT, settings.cpuLimit(), QUANTITY))
                .put("memory", annotation(pod, MEMORY_LIMIT, settings.memoryLimit(image), QUANTITY));
        ObjectNode security = c.putObject("securityContext");
        security.put("runAsNonRoot", true)
                .put("runAsUser", 1001)
                .put("readOnlyRootFilesystem", true)
                .put("allowPrivilegeEscalation", false);
        security.putObject("capabilities").putArray("drop").add("ALL");
        security.putObject("seccompProfile").put("type", "RuntimeDefault");
        ArrayNode mounts = c.putArray("volumeMounts");
        mounts.addObject()
                .put("name", "aigate-config")
                .put("mountPath", "/deployments/config")
                .put("readOnly", true);
        // the root filesystem is read-only; Vert.x keeps its file cache in /tmp
        mounts.addObject().put("name", "aigate-tmp").put("mountPath", "/tmp");
        if (tokenMount != null) {
            mounts.add(tokenMount);
        }
        if (env.isEmpty()) {
            c.remove("env");
        }
        return c;
    }

    /**
     * Under Azure Workload Identity, aigate exchanges the pod's federated token for its Entra token. When the
     * workload-identity webhook ran first, aigate is given what it gave the app (and {@link #keepIdentityFromApp} takes
     * it back from the app); when it runs later, it gives aigate its own, as the only container it does not skip.
     *
     * @return the token volume's mount to give aigate, or null
     */
    private static JsonNode copyWorkloadIdentity(JsonNode pod, ArrayNode env) {
        if (!"true"
                .equalsIgnoreCase(pod.path("metadata")
                        .path("labels")
                        .path(WORKLOAD_IDENTITY)
                        .asText(""))) {
            return null;
        }
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode container : pod.path("spec").path(list)) {
                List<Integer> mounts = tokenMounts(container);
                if (mounts.isEmpty() && !hasEnv(container.path("env"), "AZURE_FEDERATED_TOKEN_FILE")) {
                    continue;
                }
                for (JsonNode variable : container.path("env")) {
                    if (WORKLOAD_IDENTITY_ENV.contains(variable.path("name").asText())) {
                        env.add(variable.deepCopy());
                    }
                }
                return mounts.isEmpty()
                        ? null
                        : container.path("volumeMounts").get(mounts.get(0)).deepCopy();
            }
        }
        return null;
    }

    private static boolean alreadyInjected(JsonNode pod) {
        if ("injected"
                .equals(pod.path("metadata").path("annotations").path(STATUS).asText(""))) {
            return true;
        }
        for (String list : new String[] {"initContainers", "containers"}) {
            for (JsonNode c : pod.path("spec").path(list)) {
                if (CONTAINER.equals(c.path("name").asText())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String annotation(JsonNode pod, String name, String fallback, Pattern valid) {
        JsonNode value = pod.path("metadata").path("annotations").path(name);
        if (value.isMissingNode() || value.isNull()) {
            return fallback;
        }
        String text = value.asText().trim();
        if (!valid.matcher(text).matches()) {
            throw new Refusal("annotation " + name + " has an invalid value: fix it or remove it");
        }
        return text;
    }

    private static boolean hasEnv(JsonNode env, String name) {
        for (JsonNode variable : env) {
            if (name.equals(variable.path("name").asText())) {
                return true;
            }
        }
        return false;
    }

    private static ObjectNode env(String name, String value) {
        return NODES.objectNode().put("name", name).put("value", value);
    }

    private static ObjectNode probe(String path, int period, int failures) {
        ObjectNode probe = NODES.objectNode();
        probe.putObject("httpGet").put("path", path).put("port", "aigate-mgmt");
        return probe.put("periodSeconds", period).put("failureThreshold", failures);
    }

    private static ObjectNode op(String op, String path, JsonNode value) {
        ObjectNode o = NODES.objectNode().put("op", op).put("path", path);
        if (value != null) {
            o.set("value", value);
        }
        return o;
    }

    private static JsonNode answer(String uid, boolean allowed, String message, ArrayNode patch) {
        ObjectNode review = NODES.objectNode();
        review.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        ObjectNode response = review.putObject("response");
        response.put("uid", uid).put("allowed", allowed);
        if (message != null) {
            response.putObject("status").put("code", 400).put("message", "aigate injector: " + message);
        }
        if (patch != null) {
            response.put("patchType", "JSONPatch");
            response.put(
                    "patch", Base64.getEncoder().encodeToString(patch.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return review;
    }
}
