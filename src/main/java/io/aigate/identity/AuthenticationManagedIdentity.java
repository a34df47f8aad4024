package io.aigate.identity;

import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Future;
import jakarta.inject.Singleton;

/**
 * APIM's {@code authentication-managed-identity}: the backend sees aigate's own credential, never the caller's. The
 * caller's credentials were already removed from the outbound headers; this step sets the backend's (a managed-identity
 * token, a provider API key, or nothing) and refuses with 503 when none can be had.
 */
@Singleton
public class AuthenticationManagedIdentity implements Policy.Stateless {

    private final BackendCredentials credentials;

    AuthenticationManagedIdentity(BackendCredentials credentials) {
        this.credentials = credentials;
    }

    @Override
    public String name() {
        return "authentication-managed-identity";
    }

    @Override
    public Future<Outcome> onAttempt(RequestContext ctx) {
        return credentials.forBackend(ctx.route().backend()).authorize(ctx.outboundHeaders());
    }
}
