package io.aigate.backends;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Supplier;

/**
 * One backend's circuit breakers, one per deployment: Azure OpenAI throttles each deployment of a resource on its own
 * quota, so one deployment's 429 must never rest another one on the same URL, here or across the fleet. A deployment
 * is known by the backend's own name for it ({@code deployment-names}, folded), the name every instance shares.
 *
 * <p>Deployment names on a {@code *} route are the caller's choice: each name gets its breaker on first use, up to
 * {@link #MAX_DEPLOYMENTS}; names beyond that share one, so invented names cannot grow memory. A message from the fleet
 * only ever reaches a breaker that is already here ({@link #heard}).
 */
final class DeploymentBreakers {

    static final int MAX_DEPLOYMENTS = 64;
    /** The key of requests that name no deployment (v1 {@code files}, {@code models}): no deployment name has it. */
    static final String NONE = "-";

    private final Supplier<CircuitBreaker> factory;
    /** Folded caller names to this backend's own. */
    private final Map<String, String> renames;

    private final ConcurrentMap<String, CircuitBreaker> byDeployment = new ConcurrentHashMap<>();
    private final CircuitBreaker others;

    DeploymentBreakers(Supplier<CircuitBreaker> factory, Map<String, String> renames) {
        this.factory = factory;
        this.renames = Map.copyOf(renames);
        this.others = factory.get();
    }

    /** The key the fleet knows the caller's deployment by on this backend. */
    String key(String callerDeployment) {
        if (callerDeployment == null) {
            return NONE;
        }
        String folded = callerDeployment.toLowerCase(Locale.ROOT);
        String own = renames.get(folded);
        return own == null ? folded : own.toLowerCase(Locale.ROOT);
    }

    /** The breaker for a deployment key, made on first use while there is room. */
    CircuitBreaker of(String key) {
        CircuitBreaker breaker = byDeployment.get(key);
        if (breaker != null) {
            return breaker;
        }
        if (byDeployment.size() >= MAX_DEPLOYMENTS) {
            return others;
        }
        return byDeployment.computeIfAbsent(key, k -> factory.get());
    }

    /** The breaker a deployment already has here, or null: what the fleet says never makes one. */
    CircuitBreaker heard(String key) {
        return byDeployment.get(key);
    }

    boolean enabled() {
        return others.enabled();
    }

    /** The backend's state as one value: the most rested of its deployments (open, then half-open, then closed). */
    CircuitBreaker.State state(long now) {
        CircuitBreaker.State worst = others.state(now);
        for (CircuitBreaker breaker : byDeployment.values()) {
            if (worst == CircuitBreaker.State.OPEN) {
                break;
            }
            CircuitBreaker.State state = breaker.state(now);
            if (state != CircuitBreaker.State.CLOSED) {
                worst = state;
            }
        }
        return worst;
    }
}
