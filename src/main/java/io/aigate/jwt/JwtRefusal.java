package io.aigate.jwt;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * Layer 2's refusals. A token that is missing or fails verification gets APIM's {@code failed-validation-httpcode}
 * (401 unless configured) and, when configured, {@code failed-validation-error-message} in place of the reason; a
 * valid token the rules refuse gets 403.
 *
 * @param kind    why, as the {@code result} tag of {@code aigate_jwt_decisions_total}
 * @param message a text aigate or the verifier chose, never part of the token
 */
public record JwtRefusal(Kind kind, int status, String message, Map<String, String> headers) implements Refusal {

    public JwtRefusal {
        headers = Map.copyOf(headers);
    }

    public enum Kind {
        MISSING,
        TOO_LARGE,
        INVALID,
        CLAIMS_REFUSED,
        UNVERIFIABLE,
        KEYS_UNAVAILABLE;

        final String result = name().toLowerCase(java.util.Locale.ROOT);
    }

    public static final String NOT_PRESENT = "JWT not present.";
    public static final String TOO_LARGE = "The token is larger than 16 KB. Access denied.";
    public static final String EXPIRED = "Lifetime validation failed. The token is expired. Access denied.";

    public static final JwtRefusal UNVERIFIABLE = new JwtRefusal(
            Kind.UNVERIFIABLE,
            403,
            "This subscription is bound "
                    + "to client applications, but this gateway does not validate tokens: set aigate.jwt.enabled=true (with "
                    + "its key source) or remove the subscription's client applications.",
            Map.of());
    public static final JwtRefusal KEYS_UNAVAILABLE = new JwtRefusal(
            Kind.KEYS_UNAVAILABLE,
            503,
            "Token signing keys are not available yet. Try again in 5 seconds.",
            Map.of("Retry-After", "5"));

    /** A token missing, too large or failing verification, answered as {@code failed-validation-*} say. */
    public static JwtRefusal failed(Kind kind, String reason, int failedStatus, String failedMessage) {
        return new JwtRefusal(kind, failedStatus, failedMessage != null ? failedMessage : reason, Map.of());
    }

    /** A valid token the route's claims or the subscription's client applications refuse. */
    public static JwtRefusal claims(String message) {
        return new JwtRefusal(Kind.CLAIMS_REFUSED, 403, message, Map.of());
    }

    @Override
    public String reason() {
        return kind == Kind.CLAIMS_REFUSED ? "jwt_claims" : "jwt_" + kind.result;
    }

    @Override
    public String policy() {
        return "validate-jwt";
    }
}
