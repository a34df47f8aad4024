package io.aigate.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
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
    static final String WORKLOAD_IDENTITY = "azure.workload.identity/use";
    /** The variables and token volume the Azure Workload Identity webhook gives a pod's containers. */
    static final List<String> WORKLOAD_IDENTITY_ENV = List.of("AZURE_CLIENT_ID", "AZURE_TENANT_ID",
            "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST");
    static final String WORKLOAD_IDENTITY_VOLUME = "azure-identity-token";

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
            if (!pod.isObject() || !pod.path("spec").isObject() || !pod.path("spec").path("containers").isArray()) {
                throw new Refusal("the AdmissionReview carries no pod with spec.containers");
            }
            String namespace = request.path("namespace").asText(pod.path("metadata").path("namespace").asText(""));
            ArrayNode patch = patch(pod, namespace);
            return answer(uid, true, null, patch.isEmpty() ? null : patch);
        } catch (Refusal refusal) {
            return answer(uid, false, refusal.getMessage(), null);
        } catch (RuntimeException e) {
            // fail closed with a reason, never a stack trace
            return answer(uid, false, "aigate could not read the pod (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    /** The JSONPatch for one pod; empty when it is not to be injected. */
    public ArrayNode patch(JsonNode pod, String namespace) {
        ArrayNode ops = NODES.arrayNode();
        JsonNode metadata = pod.path("metadata");
        JsonNode annotations = metadata.path("annotations");
        JsonNode labels = metadata.path("labels");
        String wanted = annotations.path(INJECT).asText(labels.path(INJECT).asText(""));
        if (!"true".equalsIgnoreCase(wanted) || settings.excludedNamespaces().contains(namespace)
                || "false".equalsIgnoreCase(labels.path(INJECT).asText("")) || alreadyInjected(pod)) {
            return ops;
        }
        JsonNode spec = pod.path("spec");
        ObjectNode sidecar = sidecar(pod);

        // first among the init containers: the others may call aigate too
        if (spec.path("initContainers").isArray() && !spec.path("initContainers").isEmpty()) {
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
                    ops.add(op("add", "/spec/containers/" + i + "/env", NODES.arrayNode().add(endpoint)));
                }
            }
        }
        if (annotations.isObject()) {
            ops.add(op("add", "/metadata/annotations/" + STATUS.replace("/", "~1"), NODES.textNode("injected")));
        } else {
            ops.add(op("add", "/metadata/annotations", NODES.objectNode().put(STATUS, "injected")));
        }
        return ops;
    }

    /** The sidecar container: the same spec for every pod but for what its annotations override. */
    private ObjectNode sidecar(JsonNode pod) {
        ObjectNode c = NODES.objectNode();
        c.put("name", CONTAINER);
        c.put("image", annotation(pod, IMAGE, settings.image(), IMAGE_REF));
        c.put("restartPolicy", "Always");
        ArrayNode ports = c.putArray("ports");
        ports.addObject().put("name", "aigate-mgmt").put("containerPort", InjectorSettings.MANAGEMENT_PORT);
        ArrayNode env = c.putArray("env");
        String routes = pod.path("metadata").path("annotations").path(ROUTES).asText("");
        if (!routes.isEmpty()) {
            if (!ROUTE_LIST.matcher(routes).matches()) {
                throw new Refusal("annotation " + ROUTES + " must be route names separated by commas, e.g. default,gpt4");
            }
            env.add(env("AIGATE_ENABLED_ROUTES", routes));
        }
        JsonNode tokenMount = copyWorkloadIdentity(pod, env);
        ArrayNode envFrom = c.putArray("envFrom");
        envFrom.addObject().putObject("configMapRef").put("name", settings.envConfigMap()).put("optional", true);
        envFrom.addObject().putObject("secretRef").put("name", settings.envSecret()).put("optional", true);
        c.set("startupProbe", probe("/q/health/started", 1, 60));
        c.set("readinessProbe", probe("/q/health/ready", 5, 3));
        c.set("livenessProbe", probe("/q/health/live", 10, 3));
        ObjectNode resources = c.putObject("resources");
        resources.putObject("requests")
                .put("cpu", annotation(pod, CPU_REQUEST, settings.cpuRequest(), QUANTITY))
                .put("memory", annotation(pod, MEMORY_REQUEST, settings.memoryRequest(), QUANTITY));
        resources.putObject("limits")
                .put("cpu", annotation(pod, CPU_LIMIT, settings.cpuLimit(), QUANTITY))
                .put("memory", annotation(pod, MEMORY_LIMIT, settings.memoryLimit(), QUANTITY));
        ObjectNode security = c.putObject("securityContext");
        security.put("runAsNonRoot", true).put("runAsUser", 1001).put("readOnlyRootFilesystem", true)
                .put("allowPrivilegeEscalation", false);
        security.putObject("capabilities").putArray("drop").add("ALL");
        security.putObject("seccompProfile").put("type", "RuntimeDefault");
        ArrayNode mounts = c.putArray("volumeMounts");
        mounts.addObject().put("name", "aigate-config").put("mountPath", "/deployments/config").put("readOnly", true);
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
     * Under Azure Workload Identity, aigate exchanges the pod's federated token for its Entra token: the variables and
     * the token mount the workload-identity webhook gave the app are given to aigate too. When that webhook has not
     * run yet, it mutates aigate's init container itself (and this webhook is reinvoked).
     *
     * @return the token volume's mount to give aigate, or null
     */
    private static JsonNode copyWorkloadIdentity(JsonNode pod, ArrayNode env) {
        if (!"true".equalsIgnoreCase(pod.path("metadata").path("labels").path(WORKLOAD_IDENTITY).asText(""))) {
            return null;
        }
        for (JsonNode container : pod.path("spec").path("containers")) {
            boolean found = false;
            for (JsonNode variable : container.path("env")) {
                if (WORKLOAD_IDENTITY_ENV.contains(variable.path("name").asText())) {
                    env.add(variable.deepCopy());
                    found = true;
                }
            }
            if (found) {
                for (JsonNode mount : container.path("volumeMounts")) {
                    if (WORKLOAD_IDENTITY_VOLUME.equals(mount.path("name").asText())) {
                        return mount.deepCopy();
                    }
                }
                return null;
            }
        }
        return null;
    }

    private static boolean alreadyInjected(JsonNode pod) {
        if ("injected".equals(pod.path("metadata").path("annotations").path(STATUS).asText(""))) {
            return true;
        }
        for (String list : new String[]{"initContainers", "containers"}) {
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
        o.set("value", value);
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
            response.put("patch", Base64.getEncoder().encodeToString(patch.toString()
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return review;
    }
}
