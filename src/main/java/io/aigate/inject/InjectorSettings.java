package io.aigate.inject;

import java.util.List;
import java.util.Set;

/**
 * What the injector puts into a pod unless the pod's annotations say otherwise.
 *
 * @param image              the aigate image for the sidecar ({@code aigate.io/image} overrides)
 * @param configMap          the ConfigMap mounted at /deployments/config, in the pod's namespace
 *                           ({@code aigate.io/config-map} overrides)
 * @param envConfigMap       an optional ConfigMap of environment overrides (e.g. AIGATE_REDIS_URL), per namespace
 * @param envSecret          a Secret of environment overrides offered to every sidecar, per namespace; empty for none
 * @param memoryRequest      the sidecar's memory request, or null for its image's flavour default
 * @param memoryLimit        the sidecar's memory limit, or null for its image's flavour default
 * @param flavour            which image is injected, for the memory defaults; null to tell by the image's tag
 * @param excludedNamespaces namespaces whose pods are never touched
 * @param allowedImages      what {@code aigate.io/image} may name: a repository (any tag or digest of it) or an exact
 *                           reference; the default is {@code image}'s repository
 * @param allowedConfigMaps  what {@code aigate.io/config-map} may name; the default is {@code configMap} alone
 * @param appIdentityNamespaces namespaces where a cluster admin lets {@code aigate.io/app-identity: shared} hand the
 *                           workload identity to the app containers too; none by default
 * @param sidecarUid         the uid and gid the sidecar runs as; no other container of the pod may run as either
 * @param tokenAudiences     the audiences of a projected service-account token that make it a workload-identity token
 * @param authorityHosts     the Entra authority hosts the sidecar may send its federated token to
 * @param maxContainers      the most containers (all kinds together) a pod may have to be injected
 */
public record InjectorSettings(
        String image,
        String configMap,
        String envConfigMap,
        String envSecret,
        String cpuRequest,
        String memoryRequest,
        String cpuLimit,
        String memoryLimit,
        Set<String> excludedNamespaces,
        String endpoint,
        Flavour flavour,
        List<String> allowedImages,
        Set<String> allowedConfigMaps,
        Set<String> appIdentityNamespaces,
        int sidecarUid,
        Set<String> tokenAudiences,
        Set<String> authorityHosts,
        int maxContainers) {

    public static final int MANAGEMENT_PORT = 9000;

    public InjectorSettings {
        excludedNamespaces = Set.copyOf(excludedNamespaces);
        allowedImages = List.copyOf(allowedImages.isEmpty() ? List.of(repository(image)) : allowedImages);
        allowedConfigMaps = Set.copyOf(allowedConfigMaps.isEmpty() ? Set.of(configMap) : allowedConfigMaps);
        appIdentityNamespaces = Set.copyOf(appIdentityNamespaces);
        tokenAudiences = Set.copyOf(tokenAudiences);
        authorityHosts = Set.copyOf(authorityHosts);
    }

    /**
     * Whether the sidecar may run {@code reference}: an allowed entry with a tag or digest must match it exactly, one
     * without matches every tag and digest of that repository (and nothing that merely starts like it).
     */
    public boolean imageAllowed(String reference) {
        for (String allowed : allowedImages) {
            if (allowed.equals(reference)
                    || (allowed.equals(repository(allowed)) && allowed.equals(repository(reference)))) {
                return true;
            }
        }
        return false;
    }

    /** The reference without its tag and digest: {@code registry:5000/team/aigate:1.0@sha256:…} is {@code registry:5000/team/aigate}. */
    static String repository(String reference) {
        String name = reference;
        int at = name.indexOf('@');
        if (at >= 0) {
            name = name.substring(0, at);
        }
        int colon = name.indexOf(':', name.lastIndexOf('/') + 1);
        return colon < 0 ? name : name.substring(0, colon);
    }

    /**
     * The two images a sidecar can be, with memory set from what each was measured to hold at load (bench/run.sh,
     * shipped flags) plus headroom, so a default-injected pod is not OOM-killed when traffic comes.
     */
    public enum Flavour {
        /**
         * The JVM image: peak RSS 206-236 MiB under the benchmark's saturation and fixed-rate load (heap 96 MB,
         * metaspace, code cache, direct buffers, threads; 227 MiB on 2026-12-04 with the class archive), 132-143 MiB
         * idle. The request is about that peak (some runs went a little above it), the limit about a fifth above the
         * highest.
         */
        JVM("224Mi", "288Mi"),
        /**
         * The native image, measured from outside with a GraalVM 25.0.2 build (none on the machines this was built
         * on; Dockerfile.native builds with Mandrel for JDK 21): 66 MB after start, 70 MB after 200 requests, 87 MB
         * after 300 proxied ones, no saturation run. The request covers a working sidecar (it was 64Mi, below even the
         * idle figure); the limit, about half above the highest, is unverified under saturation.
         */
        NATIVE("96Mi", "128Mi");

        final String memoryRequest;
        final String memoryLimit;

        Flavour(String memoryRequest, String memoryLimit) {
            this.memoryRequest = memoryRequest;
            this.memoryLimit = memoryLimit;
        }

        /** Native when the image's tag says so ({@code aigate:1.2.0-native}), else JVM. */
        static Flavour of(String image) {
            int slash = image.lastIndexOf('/');
            int colon = image.indexOf(':', slash + 1);
            String tag = colon < 0 ? "" : image.substring(colon + 1);
            return tag.contains("native") ? NATIVE : JVM;
        }
    }

    /** The memory request for a sidecar running {@code sidecarImage}. */
    String memoryRequest(String sidecarImage) {
        return memoryRequest != null ? memoryRequest : flavourOf(sidecarImage).memoryRequest;
    }

    /** The memory limit for a sidecar running {@code sidecarImage}. */
    String memoryLimit(String sidecarImage) {
        return memoryLimit != null ? memoryLimit : flavourOf(sidecarImage).memoryLimit;
    }

    private Flavour flavourOf(String sidecarImage) {
        return flavour != null ? flavour : Flavour.of(sidecarImage);
    }

    /** The defaults are the injector's command-line defaults: one place says what they are. */
    public static InjectorSettings defaults(String image) {
        return InjectCommand.settings("--image", image);
    }
}
