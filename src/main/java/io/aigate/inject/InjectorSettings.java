package io.aigate.inject;

import java.util.Set;

/**
 * What the injector puts into a pod unless the pod's annotations say otherwise.
 *
 * @param image              the aigate image for the sidecar ({@code aigate.io/image} overrides)
 * @param configMap          the ConfigMap mounted at /deployments/config, in the pod's namespace
 *                           ({@code aigate.io/config-map} overrides)
 * @param envConfigMap       an optional ConfigMap of environment overrides (e.g. AIGATE_REDIS_URL), per namespace
 * @param envSecret          a Secret of environment overrides offered to every sidecar, per namespace; empty for none
 * @param excludedNamespaces namespaces whose pods are never touched
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
        String endpoint) {

    public static final int MANAGEMENT_PORT = 9000;

    public InjectorSettings {
        excludedNamespaces = Set.copyOf(excludedNamespaces);
    }

    /** The defaults are the injector's command-line defaults: one place says what they are. */
    public static InjectorSettings defaults(String image) {
        return InjectCommand.settings("--image", image);
    }
}
