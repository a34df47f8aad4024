package io.aigate.subscription;

import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports the key store in readiness details but never turns the pod unready: while Redis is away, keys confirmed in
 * the outage grace keep working and unknown keys get 503 with Retry-After — an unready pod would serve nobody.
 */
@Readiness
@Singleton
public class SubscriptionStoreHealth implements HealthCheck {

    private final SubscriptionLookup lookup;

    SubscriptionStoreHealth(SubscriptionLookup lookup) {
        this.lookup = lookup;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("subscription-store")
                .up()
                .withData("state", lookup.state())
                .withData("degraded", !lookup.storeUp())
                .build();
    }
}
