package io.aigate.identity;

import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready while at least one backend can be called. A sidecar that turns unready takes its whole pod out of the
 * Service, so one backend's token trouble shows in the details and in metrics, not as a flapping pod.
 */
@Readiness
@Singleton
public class BackendCredentialsHealth implements HealthCheck {

    private final BackendCredentials credentials;

    BackendCredentialsHealth(BackendCredentials credentials) {
        this.credentials = credentials;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder builder = HealthCheckResponse.named("backend-credentials");
        boolean anyUsable = false;
        for (var entry : credentials.all().entrySet()) {
            anyUsable |= entry.getValue().usable();
            builder.withData(entry.getKey(), entry.getValue().state());
        }
        return builder.status(anyUsable).build();
    }
}
