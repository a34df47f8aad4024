package io.aigate.gateway;

import io.aigate.config.AigateConfig;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Deployment name to route. Exact names win; the one {@code *} route, if configured, takes every other deployment and
 * requests that name none (such as {@code GET /openai/v1/models}). Start-up validation guarantees a name appears once.
 */
final class RouteTable {

    static final String ANY = "*";

    record Route(String name, String backend) {
    }

    private final Map<String, Route> exact = new HashMap<>();
    private final Route fallback;

    /** @param enabled the routes to serve, or null for all */
    RouteTable(Map<String, AigateConfig.Route> routes, Collection<String> enabled) {
        Route any = null;
        for (var entry : routes.entrySet()) {
            if (enabled != null && !enabled.contains(entry.getKey())) {
                continue;
            }
            Route route = new Route(entry.getKey(), entry.getValue().backend());
            for (String deployment : entry.getValue().deployments()) {
                if (ANY.equals(deployment)) {
                    any = route;
                } else {
                    exact.put(deployment, route);
                }
            }
        }
        this.fallback = any;
    }

    /** @return the route, or null when none applies (the caller gets 404 and no backend is contacted) */
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
