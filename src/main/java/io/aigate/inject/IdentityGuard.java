package io.aigate.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigate.inject.PodMutator.Refusal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who in a pod may hold its workload identity: the injected aigate alone. The federated token is the backend
 * credential aigate exists to guard; any other container that can read it (a mount, a shared process namespace, the
 * node's kubelet directory, the same uid, a debug container next to aigate) or redirect it (an authority host, a
 * token file of its choosing) could exchange it for an Azure OpenAI token and skip every layer. Each way is either
 * taken back here or the pod is refused with the reason.
 */
final class IdentityGuard {

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
    /**
     * What aigate takes over from the container that was given the identity. Not the token-proxy variables: they name
     * where the token is sent, and a pod author can set them on an app container before either webhook runs.
     */
    private static final List<String> SIDECAR_ENV =
            List.of("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST");
    /** Its token volume: {@code azure-identity-token} before v1.5, {@code azure-workload-identity-reserved-<hash>} since. */
    static final List<String> WORKLOAD_IDENTITY_VOLUMES =
            List.of("azure-identity-token", "azure-workload-identity-reserved-");
    /** Where the webhook mounts the token; a mount elsewhere could shadow aigate's own files. */
    private static final String TOKEN_MOUNT_ROOT = "/var/run/secrets/";

    static final List<String> CONTAINER_LISTS = List.of("initContainers", "containers", "ephemeralContainers");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final InjectorSettings settings;

    IdentityGuard(InjectorSettings settings) {
        this.settings = settings;
    }

    /** Whether the pod carries a workload identity: it asks the webhook for one, or projects such a token itself. */
    boolean carriesIdentity(JsonNode pod) {
        return "true"
                        .equalsIgnoreCase(pod.path("metadata")
                                .path("labels")
                                .path(WORKLOAD_IDENTITY)
                                .asText(""))
                || !tokenVolumes(pod).isEmpty();
    }

    /** The pod's volumes holding a workload-identity token: the webhook's, by name, or any projection of one. */
    Set<String> tokenVolumes(JsonNode pod) {
        Set<String> found = new LinkedHashSet<>();
        for (JsonNode volume : pod.path("spec").path("volumes")) {
            String name = volume.path("name").asText("");
            if (webhookVolume(name)) {
                found.add(name);
            }
            for (JsonNode source : volume.path("projected").path("sources")) {
                JsonNode token = source.path("serviceAccountToken");
                if (token.isObject()
                        && settings.tokenAudiences()
                                .contains(token.path("audience").asText(""))) {
                    found.add(name);
                }
            }
        }
        return found;
    }

    static boolean webhookVolume(String name) {
        return name.equals(WORKLOAD_IDENTITY_VOLUMES.get(0)) || name.startsWith(WORKLOAD_IDENTITY_VOLUMES.get(1));
    }

    /**
     * Refuses a pod carrying the identity in which a container but aigate could reach the token whatever its mounts
     * say: a shared process namespace or the host's (aigate's files through {@code /proc/<pid>/root}), a host path
     * (the kubelet keeps every pod's projected tokens on the node), or a token projected outside the webhook's volume.
     */
    void refuseReachableToken(JsonNode pod) {
        JsonNode spec = pod.path("spec");
        if (spec.path("shareProcessNamespace").asBoolean(false)) {
            throw new Refusal("shareProcessNamespace: true would let every container read aigate's workload-identity "
                    + "token through /proc: remove it");
        }
        if (spec.path("hostPID").asBoolean(false)) {
            throw new Refusal("hostPID: true would let the pod read aigate's workload-identity token through /proc: "
                    + "remove it");
        }
        for (JsonNode volume : spec.path("volumes")) {
            String name = volume.path("name").asText("");
            if (volume.has("hostPath")) {
                throw new Refusal("volume " + name + " is a hostPath: the node keeps every pod's tokens, so a pod "
                        + "with aigate's workload identity may mount none of it");
            }
        }
        for (String name : tokenVolumes(pod)) {
            if (!webhookVolume(name)) {
                throw new Refusal("volume " + name + " projects a workload-identity token of its own: only the Azure "
                        + "Workload Identity webhook's volume may, and only aigate mounts it");
            }
        }
    }

    /**
     * Refuses a pod in which another container runs as the sidecar's uid or gid, or mounts aigate's own volumes (its
     * /tmp holds what the JVM and Netty load and run; its configuration says where the token goes). A container that
     * sets no uid runs as its image's default, which the injector cannot see: the sidecar's uid is chosen to differ
     * from the common ones, and nothing else shares aigate's processes or files.
     */
    void refuseSharedSidecar(JsonNode pod) {
        JsonNode spec = pod.path("spec");
        int uid = settings.sidecarUid();
        JsonNode podSecurity = spec.path("securityContext");
        if (runsAs(podSecurity, uid)
                || podSecurity.path("fsGroup").asLong(-1) == uid
                || contains(podSecurity.path("supplementalGroups"), uid)) {
            throw new Refusal("the pod's securityContext uses uid/gid " + uid
                    + ", which is aigate's own: choose another (or ask a cluster admin to change --sidecar-uid)");
        }
        forEachOther(pod, (list, i, container) -> {
            String name = container.path("name").asText("");
            if (runsAs(container.path("securityContext"), uid)) {
                throw new Refusal("container " + name + " runs as uid/gid " + uid
                        + ", which is aigate's own: choose another (or ask a cluster admin to change --sidecar-uid)");
            }
            for (JsonNode mount : container.path("volumeMounts")) {
                String volume = mount.path("name").asText("");
                if (PodMutator.SIDECAR_VOLUMES.contains(volume)) {
                    throw new Refusal("container " + name + " mounts " + volume + ", which is aigate's own: remove "
                            + "the mount");
                }
            }
        });
    }

    /**
     * Refuses debug containers that would reach the identity or aigate's memory: one that targets aigate (it shares
     * aigate's process namespace), mounts its volumes or a token volume, or runs as its uid.
     */
    void refuseEphemeral(JsonNode pod) {
        Set<String> tokens = tokenVolumes(pod);
        for (JsonNode container : pod.path("spec").path("ephemeralContainers")) {
            String name = container.path("name").asText("");
            if (PodMutator.CONTAINER.equals(
                    container.path("targetContainerName").asText(""))) {
                throw new Refusal("ephemeral container " + name + " targets aigate, whose process holds the pod's "
                        + "backend credential: target the app container instead");
            }
            if (runsAs(container.path("securityContext"), settings.sidecarUid())) {
                throw new Refusal("ephemeral container " + name + " runs as aigate's uid/gid: choose another");
            }
            for (JsonNode mount : container.path("volumeMounts")) {
                String volume = mount.path("name").asText("");
                if (tokens.contains(volume) || PodMutator.SIDECAR_VOLUMES.contains(volume)) {
                    throw new Refusal("ephemeral container " + name + " mounts " + volume + ", which only aigate "
                            + "may: remove the mount");
                }
            }
        }
    }

    /**
     * Takes back from every other container what the workload-identity webhook gave it (when it ran first) and tells
     * it to skip them (when it runs after this one, and again when it is reinvoked). Run again on its own output, this
     * adds nothing.
     */
    void keepFromApp(JsonNode pod, ArrayNode ops, Map<String, String> newAnnotations) {
        JsonNode annotations = pod.path("metadata").path("annotations");
        Set<String> skipped = new LinkedHashSet<>();
        for (String name : annotations.path(SKIP_CONTAINERS).asText("").split(";")) {
            if (!name.isBlank()) {
                skipped.add(name.trim());
            }
        }
        int before = skipped.size();
        Set<String> tokens = tokenVolumes(pod);
        for (String list : List.of("initContainers", "containers")) {
            JsonNode containers = pod.path("spec").path(list);
            for (int i = containers.size() - 1; i >= 0; i--) {
                JsonNode container = containers.get(i);
                if (isSidecar(list, container)) {
                    continue;
                }
                skipped.add(container.path("name").asText(""));
                List<Integer> mounts = tokenMounts(container, tokens);
                JsonNode env = container.path("env");
                if (mounts.isEmpty() && !PodMutator.hasEnv(env, "AZURE_FEDERATED_TOKEN_FILE")) {
                    continue; // never given the identity (or the app's own variables, which are its business)
                }
                String at = "/spec/" + list + "/" + i;
                for (int j = env.size() - 1; j >= 0; j--) {
                    if (WORKLOAD_IDENTITY_ENV.contains(env.get(j).path("name").asText())) {
                        ops.add(PodMutator.op("remove", at + "/env/" + j, null));
                    }
                }
                mounts.stream()
                        .sorted(Comparator.reverseOrder())
                        .forEach(j -> ops.add(PodMutator.op("remove", at + "/volumeMounts/" + j, null)));
            }
        }
        if (skipped.size() > before) {
            newAnnotations.put(SKIP_CONTAINERS, String.join(";", skipped));
        }
    }

    /**
     * aigate is given what the webhook gave the first container holding the identity (aigate itself on a
     * reinvocation): the client and tenant, the token file (inside the token mount), an authority host the cluster
     * admin allows; the mount itself read-only, under /var/run/secrets, nothing else of it. When the webhook has not run
     * yet, nothing: it gives aigate its own, as the only container it does not skip.
     *
     * @return the token volume's mount to give aigate, or null
     */
    JsonNode copyTo(JsonNode pod, ArrayNode env) {
        Set<String> tokens = tokenVolumes(pod);
        for (String list : List.of("initContainers", "containers")) {
            for (JsonNode container : pod.path("spec").path(list)) {
                List<Integer> mounts = tokenMounts(container, tokens);
                if (mounts.isEmpty() && !PodMutator.hasEnv(container.path("env"), "AZURE_FEDERATED_TOKEN_FILE")) {
                    continue;
                }
                ObjectNode mount = null;
                if (!mounts.isEmpty()) {
                    JsonNode given = container.path("volumeMounts").get(mounts.get(0));
                    String path = given.path("mountPath").asText("");
                    if (!path.startsWith(TOKEN_MOUNT_ROOT) || path.contains("..")) {
                        throw new Refusal("the workload-identity token is mounted at " + path + " in container "
                                + container.path("name").asText("") + ": only a path under " + TOKEN_MOUNT_ROOT
                                + " can be given to aigate");
                    }
                    mount = NODES.objectNode()
                            .put("name", given.path("name").asText())
                            .put("mountPath", path)
                            .put("readOnly", true);
                }
                for (JsonNode variable : container.path("env")) {
                    String name = variable.path("name").asText();
                    if (!SIDECAR_ENV.contains(name)) {
                        continue;
                    }
                    String value = variable.path("value").asText("");
                    if (variable.has("valueFrom")) {
                        throw new Refusal(
                                name + " of container " + container.path("name").asText("")
                                        + " is taken from elsewhere: aigate takes only the values the workload-identity "
                                        + "webhook sets");
                    }
                    if ("AZURE_AUTHORITY_HOST".equals(name)
                            && !settings.authorityHosts().contains(value)) {
                        throw new Refusal("AZURE_AUTHORITY_HOST " + value + " is not an authority the injector allows"
                                + " (" + String.join(", ", settings.authorityHosts()) + "): remove it, or ask a "
                                + "cluster admin to add it to --authority-hosts");
                    }
                    if ("AZURE_FEDERATED_TOKEN_FILE".equals(name)
                            && (mount == null
                                    || value.contains("..")
                                    || !value.startsWith(mount.path("mountPath").asText() + "/"))) {
                        throw new Refusal("AZURE_FEDERATED_TOKEN_FILE of container "
                                + container.path("name").asText("") + " is not in its token volume's mount");
                    }
                    env.add(PodMutator.env(name, value));
                }
                return mount;
            }
        }
        return null;
    }

    /**
     * The indexes of the container's mounts of a token volume (or of the directory of {@code
     * AZURE_FEDERATED_TOKEN_FILE}), the one holding that file first; empty when none.
     */
    private static List<Integer> tokenMounts(JsonNode container, Set<String> tokenVolumes) {
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
            if (holdsTheFile && (tokenVolumes.contains(name) || webhookVolume(name))) {
                found.add(0, i);
            } else if (tokenVolumes.contains(name) || webhookVolume(name)) {
                found.add(i);
            }
        }
        return found;
    }

    /** The sidecar this injector adds: the init container named aigate (an app container of that name is refused). */
    static boolean isSidecar(String list, JsonNode container) {
        return "initContainers".equals(list)
                && PodMutator.CONTAINER.equals(container.path("name").asText(""));
    }

    interface ContainerVisitor {
        void visit(String list, int index, JsonNode container);
    }

    /** Every container of every kind but the sidecar. */
    static void forEachOther(JsonNode pod, ContainerVisitor visitor) {
        for (String list : CONTAINER_LISTS) {
            JsonNode containers = pod.path("spec").path(list);
            for (int i = 0; i < containers.size(); i++) {
                if (!isSidecar(list, containers.get(i))) {
                    visitor.visit(list, i, containers.get(i));
                }
            }
        }
    }

    private static boolean runsAs(JsonNode securityContext, int uid) {
        return securityContext.path("runAsUser").asLong(-1) == uid
                || securityContext.path("runAsGroup").asLong(-1) == uid;
    }

    private static boolean contains(JsonNode array, int value) {
        for (JsonNode element : array) {
            if (element.asLong(-1) == value) {
                return true;
            }
        }
        return false;
    }
}
