package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.Map;

/**
 * Each route's {@code <retry>}, read once: HTTP requests ({@link Forwarder}) and Realtime handshakes ({@link Realtime})
 * go on to another pool member by the same rule.
 */
@Singleton
class RetryRules {

    private final Map<String, Attempt.Rule> byRoute;

    RetryRules(AigateConfig config) {
        Map<String, Attempt.Rule> rules = new HashMap<>();
        config.routes().forEach((name, route) -> rules.put(name, Attempt.Rule.of(name, route.retry())));
        this.byRoute = Map.copyOf(rules);
    }

    Attempt.Rule of(String route) {
        return byRoute.get(route);
    }
}
