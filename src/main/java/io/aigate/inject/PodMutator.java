package io.aigate.inject;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The mutating webhook's decision, a pure function: an AdmissionReview in, an AdmissionReview out, with a JSONPatch
 * that adds aigate to the pod as a native sidecar (an init container with {@code restartPolicy: Always}, Kubernetes
 * 1.29+: it starts before the app and stops after it). Pods opt in with the label or annotation
 * {@code aigate.io/inject: "true"}; {@code "false"} or an excluded namespace is allowed unchanged, a pod that already
 * has aigate as this injector makes it too (idempotent under reinvocation). Whatever a pod brings under aigate's
 * names (a container, its volumes) is made what the injector makes, and a pod that would leave its workload identity
 * within another container's reach is refused ({@link IdentityGuard}). Nothing here can throw at a caller: a review
 * that cannot be read, or asks for more work than any pod needs, gets a refusal that says why.
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

    static final String SKIP_CONTAINERS = IdentityGuard.SKIP_CONTAINERS;
    static final List<String> WORKLOAD_IDENTITY_ENV = IdentityGuard.WORKLOAD_IDENTITY_ENV;
    /** aigate's own volumes: no other container may mount them. */
    static final Set<String> SIDECAR_VOLUMES = Set.of("aigate-config", "aigate-tmp");
    /** A patch beyond this is an absurd pod (thousands of identity variables to take back), not one to answer. */
    static final int MAX_PATCH_OPERATIONS = 512;
    /** Longer annotations are refused before any pattern reads them. */
    private static final int MAX_ANNOTATION_LENGTH = 1024;

    static final long MAX_TOKENS = 100_000;

    /** Depth and sizes an AdmissionReview of a pod never needs (a pod is about a dozen levels deep). */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxStringLength(1 << 20)
                    .maxNumberLength(64)
                    .maxNameLength(1024)
                    // the tree is ~30 times its bytes: this, not the 3 MB body, bounds what one review holds (a large
                    // pod, 64 containers of 100 variables, is about 50,000)
                    .maxTokenCount(MAX_TOKENS)
                    .build())
            .build());

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Pattern QUANTITY = Pattern.compile("[0-9]{1,12}(\\.[0-9]{1,6})?(m|Ki|Mi|Gi|k|M|G)?");
    private static final Pattern IMAGE_REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}");
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
    private static final Pattern ROUTE_LIST = Pattern.compile("[A-Za-z0-9._-]++(,[A-Za-z0-9._-]++)*+");

    private final InjectorSettings settings;
    private final IdentityGuard guard;

    public PodMutator(InjectorSettings settings) {
        this.settings = settings;
        this.guard = new IdentityGuard(settings);
    }

    /** A refusal the caller (the API server, and the person reading its event) can act on. */
    static final class Refusal extends RuntimeException {
        Refusal(String message) {
            super(message, null, false, false);
        }
    }

    /** The answer to one AdmissionReview from a namespace that is not guarded; never throws. */
    public JsonNode review(byte[] body) {
        return review(body, false);
    }

    /**
     * The answer to one AdmissionReview (bytes as received); never throws.
     *
     * @param guarded the review came through the registration for namespaces a cluster admin labelled {@code
     *     aigate.io/identity: sidecar-only}: there every workload identity is aigate's, and a pod carrying one must
     *     have aigate
     */
    public JsonNode review(byte[] body, boolean guarded) {
        JsonNode review;
        try {
            review = JSON.readTree(body);
        } catch (Exception e) {
            return answer(
                    "",
                    false,
                    "the request body is not JSON within bounds: send an admission.k8s.io/v1 AdmissionReview",
                    null);
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
            String operation = request.path("operation").asText("CREATE");
            if ("UPDATE".equals(operation)
                    && "ephemeralcontainers".equals(request.path("subResource").asText(""))) {
                refuseAbsurd(pod);
                if (hasSidecar(pod)) {
                    guard.refuseEphemeral(pod);
                }
                return answer(uid, true, null, null);
            }
            if ("UPDATE".equals(operation)
                    && request.path("subResource").asText("").isEmpty()) {
                refuseSidecarChange(request.path("oldObject"), pod);
                return answer(uid, true, null, null);
            }
            if (!"CREATE".equals(operation)) {
                return answer(uid, true, null, null); // a pod is injected when it is created, never later
            }
            ArrayNode patch = patch(pod, namespace, guarded);
            if (patch.size() > MAX_PATCH_OPERATIONS) {
                throw new Refusal("the pod would need more than " + MAX_PATCH_OPERATIONS + " changes: it repeats "
                        + "workload-identity variables or mounts; remove them");
            }
            return answer(uid, true, null, patch.isEmpty() ? null : patch);
        } catch (Refusal refusal) {
            return answer(uid, false, refusal.getMessage(), null);
        } catch (RuntimeException | StackOverflowError e) {
            // fail closed with a reason, never a stack trace
            return answer(
                    uid, false, "aigate could not read the pod (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    /** The JSONPatch for one pod of a namespace that is not guarded. */
    public ArrayNode patch(JsonNode pod, String namespace) {
        return patch(pod, namespace, false);
    }

    /**
     * The JSONPatch for one pod; empty when it is not to be injected, or when it already is, as this injector would
     * inject it, and its workload identity is where it belongs (so a reinvocation changes nothing). A pod that asks for
     * two things at once, or would leave the identity within another container's reach, is refused.
     */
    ArrayNode patch(JsonNode pod, String namespace, boolean guarded) {
        ArrayNode ops = NODES.arrayNode();
        if (settings.excludedNamespaces().contains(namespace)) {
            return ops;
        }
        refuseAbsurd(pod);
        boolean identity = guard.carriesIdentity(pod);
        if (!wanted(pod)) {
            if (guarded && identity) {
                throw new Refusal("namespace " + namespace + " keeps its workload identities for aigate: label the "
                        + "pod " + INJECT + ": \"true\", or run it with a service account of another namespace");
            }
            return ops;
        }
        for (JsonNode container : pod.path("spec").path("containers")) {
            if (CONTAINER.equals(container.path("name").asText(""))) {
                throw new Refusal("the container name " + CONTAINER + " is the injected sidecar's: rename the app "
                        + "container");
            }
        }
        if (pod.path("spec").path("ephemeralContainers").size() > 0) {
            throw new Refusal("a new pod cannot have ephemeral containers");
        }
        boolean shared = sharedIdentity(pod, namespace);
        if (identity && !shared) {
            guard.refuseReachableToken(pod);
        }
        guard.refuseSharedSidecar(pod);
        Map<String, String> newAnnotations = new LinkedHashMap<>();
        // before the sidecar is added, while the pod's container indexes are still the pod's own
        if (identity && !shared) {
            guard.keepFromApp(pod, ops, newAnnotations);
        }
        ObjectNode sidecar = sidecar(pod);
        int existing = sidecarIndex(pod);
        if (existing < 0) {
            inject(pod, ops, sidecar);
        } else {
            // a container the pod brought under aigate's name, or one changed since: made what this injector makes
            if (!sidecar.equals(pod.path("spec").path("initContainers").get(existing))) {
                ops.add(op("replace", "/spec/initContainers/" + existing, sidecar));
            }
            ensureVolumes(pod, ops, volumes(pod));
        }
        JsonNode annotations = pod.path("metadata").path("annotations");
        if (!"injected".equals(annotations.path(STATUS).asText(""))) {
            newAnnotations.put(STATUS, "injected");
        }
        if (!newAnnotations.isEmpty()) {
            if (annotations.isObject()) {
                newAnnotations.forEach((name, value) -> ops.add(op(
                        annotations.has(name) ? "replace" : "add",
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

    /**
     * One precedence for the label and the annotation {@code aigate.io/inject}, failing closed: either saying
     * {@code "true"} asks for aigate; both present and disagreeing is refused (an annotation {@code "false"} that
     * undid the label would let the workload identity reach the app); anything but true or false is refused.
     */
    private static boolean wanted(JsonNode pod) {
        String label = optIn(pod.path("metadata").path("labels"), "label");
        String annotation = optIn(pod.path("metadata").path("annotations"), "annotation");
        if (label != null && annotation != null && !label.equals(annotation)) {
            throw new Refusal("the label " + INJECT + " says " + label + " and the annotation says " + annotation
                    + ": keep one of them");
        }
        return "true".equals(label) || "true".equals(annotation);
    }

    private static String optIn(JsonNode map, String what) {
        JsonNode value = map.path(INJECT);
        if (value.isMissingNode() || value.isNull()) {
            return null;
        }
        String text = value.asText("").trim().toLowerCase(Locale.ROOT);
        if (!text.equals("true") && !text.equals("false")) {
            throw new Refusal("the " + what + " " + INJECT + " must be \"true\" or \"false\"");
        }
        return text;
    }

    /** {@code aigate.io/app-identity: shared}, honoured only in a namespace a cluster admin listed. */
    private boolean sharedIdentity(JsonNode pod, String namespace) {
        JsonNode value = pod.path("metadata").path("annotations").path(APP_IDENTITY);
        if (value.isMissingNode() || value.isNull()) {
            return false;
        }
        if (!"shared".equals(value.asText(""))) {
            throw new Refusal("annotation " + APP_IDENTITY + " can only be \"shared\": fix it or remove it");
        }
        if (!settings.appIdentityNamespaces().contains(namespace)) {
            throw new Refusal("annotation " + APP_IDENTITY + ": shared hands the workload identity to the app, which "
                    + "only a cluster admin can allow (--app-identity-namespaces); namespace " + namespace
                    + " is not allowed: remove the annotation");
        }
        return true;
    }

    /** Bounds the work a review can ask for before any of it is done. */
    private void refuseAbsurd(JsonNode pod) {
        int containers = 0;
        for (String list : IdentityGuard.CONTAINER_LISTS) {
            containers += pod.path("spec").path(list).size();
        }
        if (containers > settings.maxContainers()) {
            throw new Refusal("the pod has " + containers + " containers, more than the " + settings.maxContainers()
                    + " the injector accepts (--max-containers)");
        }
        for (JsonNode value : pod.path("metadata").path("annotations")) {
            if (value.asText("").length() > MAX_ANNOTATION_LENGTH) {
                throw new Refusal("an annotation is longer than " + MAX_ANNOTATION_LENGTH + " characters");
            }
        }
    }

    private void inject(JsonNode pod, ArrayNode ops, ObjectNode sidecar) {
        JsonNode spec = pod.path("spec");
        JsonNode annotations = pod.path("metadata").path("annotations");
        // first among the init containers: the others may call aigate too
        if (spec.path("initContainers").isArray()
                && !spec.path("initContainers").isEmpty()) {
            ops.add(op("add", "/spec/initContainers/0", sidecar));
        } else {
            ops.add(op("add", "/spec/initContainers", NODES.arrayNode().add(sidecar)));
        }
        ensureVolumes(pod, ops, volumes(pod));
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

    /** aigate's configuration (an allowed ConfigMap: it says where the backend token goes) and its /tmp. */
    private List<ObjectNode> volumes(JsonNode pod) {
        String configMap = annotation(pod, CONFIG_MAP, settings.configMap(), NAME);
        if (!settings.allowedConfigMaps().contains(configMap)) {
            throw new Refusal("annotation " + CONFIG_MAP + " names a ConfigMap the injector does not allow: use one of "
                    + String.join(", ", new TreeSet<>(settings.allowedConfigMaps()))
                    + ", or ask a cluster admin to add it to --allowed-config-maps");
        }
        ObjectNode config = NODES.objectNode().put("name", "aigate-config");
        config.putObject("configMap").put("name", configMap);
        ObjectNode tmp = NODES.objectNode().put("name", "aigate-tmp");
        tmp.putObject("emptyDir").put("medium", "Memory").put("sizeLimit", "16Mi");
        return List.of(config, tmp);
    }

    /** Adds aigate's volumes, or puts one right when the pod brought its own under that name. */
    private static void ensureVolumes(JsonNode pod, ArrayNode ops, List<ObjectNode> wanted) {
        JsonNode volumes = pod.path("spec").path("volumes");
        if (!volumes.isArray()) {
            ArrayNode all = NODES.arrayNode();
            wanted.forEach(all::add);
            ops.add(op("add", "/spec/volumes", all));
            return;
        }
        for (ObjectNode volume : wanted) {
            int at = -1;
            for (int i = 0; i < volumes.size() && at < 0; i++) {
                at = volume.path("name").equals(volumes.get(i).path("name")) ? i : -1;
            }
            if (at < 0) {
                ops.add(op("add", "/spec/volumes/-", volume));
            } else if (!volume.equals(volumes.get(at))) {
                ops.add(op("replace", "/spec/volumes/" + at, volume));
            }
        }
    }

    /** The sidecar container: the same spec for every pod but for what its annotations override. */
    private ObjectNode sidecar(JsonNode pod) {
        ObjectNode c = NODES.objectNode();
        c.put("name", CONTAINER);
        String image = annotation(pod, IMAGE, settings.image(), IMAGE_REF);
        if (!settings.imageAllowed(image)) {
            throw new Refusal("annotation " + IMAGE + " names an image the injector does not allow: use "
                    + String.join(" or ", settings.allowedImages())
                    + ", or ask a cluster admin to add it to --allowed-images");
        }
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
        JsonNode tokenMount = guard.carriesIdentity(pod) ? guard.copyTo(pod, env) : null;
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
                .put("runAsUser", settings.sidecarUid())
                .put("runAsGroup", settings.sidecarUid())
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

    private static int sidecarIndex(JsonNode pod) {
        JsonNode init = pod.path("spec").path("initContainers");
        for (int i = 0; i < init.size(); i++) {
            if (IdentityGuard.isSidecar("initContainers", init.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A running pod's container images can be changed ({@code kubectl set image}): the injected aigate's cannot, or an
     * image of the pod author's choosing would run with the workload identity aigate was given. Nor can a sidecar
     * appear or vanish by an update (init containers cannot be added or removed; this says why if one tries).
     */
    private static void refuseSidecarChange(JsonNode old, JsonNode pod) {
        int before = sidecarIndex(old);
        int after = sidecarIndex(pod);
        if (before < 0 && after < 0) {
            return;
        }
        JsonNode was =
                before < 0 ? null : old.path("spec").path("initContainers").get(before);
        JsonNode now =
                after < 0 ? null : pod.path("spec").path("initContainers").get(after);
        if (was == null || !was.equals(now)) {
            throw new Refusal("the injected " + CONTAINER + " container of a running pod cannot be changed: recreate "
                    + "the pod to change it");
        }
        // the label is what brings a pod's updates to this webhook: changed, the next update would come to none
        JsonNode labelWas = old.path("metadata").path("labels").path(INJECT);
        if (!labelWas.equals(pod.path("metadata").path("labels").path(INJECT))) {
            throw new Refusal("the label " + INJECT + " of a running pod with " + CONTAINER + " cannot be changed: "
                    + "recreate the pod to change it");
        }
    }

    private static boolean hasSidecar(JsonNode pod) {
        return sidecarIndex(pod) >= 0;
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

    static boolean hasEnv(JsonNode env, String name) {
        for (JsonNode variable : env) {
            if (name.equals(variable.path("name").asText())) {
                return true;
            }
        }
        return false;
    }

    static ObjectNode env(String name, String value) {
        return NODES.objectNode().put("name", name).put("value", value);
    }

    private static ObjectNode probe(String path, int period, int failures) {
        ObjectNode probe = NODES.objectNode();
        probe.putObject("httpGet").put("path", path).put("port", "aigate-mgmt");
        return probe.put("periodSeconds", period).put("failureThreshold", failures);
    }

    static ObjectNode op(String op, String path, JsonNode value) {
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
