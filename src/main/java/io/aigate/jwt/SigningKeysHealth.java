package io.aigate.jwt;

import io.aigate.config.AigateConfig;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Signing keys in readiness: DOWN only while no key was ever loaded and every route needs a token — then no request
 * could succeed. Otherwise UP, with the key state in the details.
 */
@Readiness
@Singleton
public class SigningKeysHealth implements HealthCheck {

    private final SigningKeys keys;
    private final boolean everyRouteNeedsToken;
    private final boolean anyRouteNeedsToken;

    SigningKeysHealth(SigningKeys keys, AigateConfig config) {
        this.keys = keys;
        this.everyRouteNeedsToken = config.servedRoutes().values().stream().allMatch(config::validatesJwt);
        this.anyRouteNeedsToken = config.jwtInUse();
    }

    @Override
    public HealthCheckResponse call() {
        if (!anyRouteNeedsToken) {
            return HealthCheckResponse.named("jwt-signing-keys")
                    .up()
                    .withData("state", "not used")
                    .build();
        }
        return HealthCheckResponse.named("jwt-signing-keys")
                .status(keys.ready() || !everyRouteNeedsToken)
                .withData("state", keys.state())
                .build();
    }
}
