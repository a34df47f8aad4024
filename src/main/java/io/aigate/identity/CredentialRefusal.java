package io.aigate.identity;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * Layer 3's refusal: aigate has no valid credential of its own for the backend, so forwarding would only earn a 401
 * from it. The wait is until the next attempt to obtain one.
 */
public record CredentialRefusal(Kind kind, long waitSeconds) implements Refusal {

    public enum Kind {
        /** No managed-identity (Entra) token could be obtained. */
        ENTRA_TOKEN(
                "backend_token_unavailable",
                "Backend credential unavailable: no managed-identity token could be "
                        + "obtained. Try again in %d seconds."),
        /** The provider API key could not be read from Key Vault. */
        KEY_VAULT_KEY(
                "backend_key_unavailable",
                "Backend credential unavailable: the provider API key could not be "
                        + "read from Key Vault. Try again in %d seconds.");

        private final String reason;
        private final String message;

        Kind(String reason, String message) {
            this.reason = reason;
            this.message = message;
        }
    }

    /** Refused until {@code nextAttemptAtMillis}, seen at {@code nowMillis}: at least a second, rounded up. */
    static CredentialRefusal until(Kind kind, long nextAttemptAtMillis, long nowMillis) {
        return new CredentialRefusal(kind, Math.max(1, (nextAttemptAtMillis - nowMillis + 999) / 1000));
    }

    @Override
    public int status() {
        return 503;
    }

    @Override
    public String message() {
        return kind.message.formatted(waitSeconds);
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Retry-After", Long.toString(waitSeconds));
    }

    @Override
    public String reason() {
        return kind.reason;
    }

    @Override
    public String policy() {
        return "authentication-managed-identity";
    }
}
