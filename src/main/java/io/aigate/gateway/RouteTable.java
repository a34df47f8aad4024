package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Deployment name to route. Names are matched without regard to case, as Azure matches deployment names: {@code GPT-4O}
 * is the deployment {@code gpt-4o} at the backend, so it must meet {@code gpt-4o}'s route and rules, never the
 * {@code *} route's. Exact names win; the one {@code *} route, if configured, takes every other deployment and the
 * requests that name none (v1 {@code files}, {@code models}), which pass only where it names their operation.
 * Start-up validation guarantees a name appears once, whatever its case.
 */
final class RouteTable {

    static final String ANY = "*";

    record Route(String name, String backend, Operations operations) {}

    private final Map<String, Route> exact = new HashMap<>();
    private final Route fallback;

    /** @param enabled the routes to serve, or null for all */
    RouteTable(Map<String, AigateConfig.Route> routes, Collection<String> enabled) {
        Route any = null;
        for (var entry : routes.entrySet()) {
            if (enabled != null && !enabled.contains(entry.getKey())) {
                continue;
            }
            Route route = new Route(
                    entry.getKey(),
                    entry.getValue().backend(),
                    Operations.parse(entry.getValue().operations()));
            for (String deployment : entry.getValue().deployments()) {
                if (ANY.equals(deployment)) {
                    any = route;
                } else {
                    exact.put(fold(deployment), route);
                }
            }
        }
        this.fallback = any;
    }

    /** The one form of a deployment name that routes, limits, scopes and metrics compare. */
    static String fold(String deployment) {
        return deployment.toLowerCase(Locale.ROOT);
    }

    /**
     * @param deployment a name already folded with {@link #fold}, or null for requests that name none
     * @return the route, or null when none applies (the caller gets 404 and no backend is contacted)
     */
    Route match(String deployment) {
        if (deployment != null) {
            Route route = exact.get(deployment);
            if (route != null) {
                return route;
            }
        }
        return fallback;
    }
}
