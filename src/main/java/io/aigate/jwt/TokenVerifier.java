package io.aigate.jwt;

import java.security.Key;
import java.util.List;
import java.util.Set;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.VerificationJwkSelector;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.jwx.JsonWebStructure;
import org.jose4j.keys.resolvers.VerificationKeyResolver;
import org.jose4j.lang.JoseException;
import org.jose4j.lang.UnresolvableKeyException;

/**
 * Checks one token with jose4j: signature by a key from the configured set only, an allowed asymmetric algorithm,
 * issuer, audience, lifetime. Messages follow APIM's "… Access denied." shape and never quote the token.
 */
final class TokenVerifier {

    sealed interface Result permits Valid, Invalid {}

    record Valid(JwtClaims claims, long expiresAtMillis) implements Result {}

    record Invalid(String message, boolean unknownKey) implements Result {}

    private final AlgorithmConstraints algorithms;
    private final int clockSkewSeconds;
    private final boolean requireExpirationTime;
    private final List<String> audiences;

    TokenVerifier(
            List<String> algorithms, int clockSkewSeconds, boolean requireExpirationTime, List<String> audiences) {
        this.algorithms =
                new AlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT, algorithms.toArray(String[]::new));
        this.clockSkewSeconds = clockSkewSeconds;
        this.requireExpirationTime = requireExpirationTime;
        this.audiences = audiences;
    }

    /** Picks the verification key from our set by the token's kid; remembers when the kid was not there. */
    private static final class ConfiguredKeys implements VerificationKeyResolver {
        private final List<JsonWebKey> keys;
        boolean unknownKey;

        ConfiguredKeys(List<JsonWebKey> keys) {
            this.keys = keys;
        }

        @Override
        public Key resolveKey(JsonWebSignature jws, List<JsonWebStructure> nesting) throws UnresolvableKeyException {
            try {
                JsonWebKey key = new VerificationJwkSelector().select(jws, keys);
                if (key != null) {
                    return key.getKey();
                }
            } catch (JoseException e) {
                throw new UnresolvableKeyException("no usable signing key", e);
            }
            unknownKey = true;
            throw new UnresolvableKeyException("the signing key is not in the configured key set");
        }
    }

    Result verify(String token, List<JsonWebKey> keys, Set<String> issuers) {
        ConfiguredKeys resolver = new ConfiguredKeys(keys);
        JwtConsumerBuilder builder = new JwtConsumerBuilder()
                .setVerificationKeyResolver(resolver)
                .setJwsAlgorithmConstraints(algorithms)
                .setAllowedClockSkewInSeconds(clockSkewSeconds)
                .setExpectedIssuers(true, issuers.toArray(String[]::new))
                .setExpectedAudience(true, audiences.toArray(String[]::new));
        if (requireExpirationTime) {
            builder.setRequireExpirationTime();
        }
        try {
            JwtClaims claims = builder.build().processToClaims(token);
            long expiresAt = claims.getExpirationTime() == null
                    ? Long.MAX_VALUE
                    : claims.getExpirationTime().getValueInMillis();
            return new Valid(claims, expiresAt);
        } catch (InvalidJwtException e) {
            return new Invalid(message(e, resolver.unknownKey), resolver.unknownKey);
        } catch (MalformedClaimException e) {
            return new Invalid("The token has a malformed claim.", false);
        }
    }

    private static String message(InvalidJwtException e, boolean unknownKey) {
        if (unknownKey) {
            return "Signature validation failed: the signing key is not known.";
        }
        if (e.hasErrorCode(ErrorCodes.EXPIRED)) {
            return "Lifetime validation failed. The token is expired.";
        }
        if (e.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
            return "Lifetime validation failed. The token is not yet valid.";
        }
        if (e.hasErrorCode(ErrorCodes.EXPIRATION_MISSING)) {
            return "Lifetime validation failed. The token has no expiration time.";
        }
        if (e.hasErrorCode(ErrorCodes.AUDIENCE_INVALID) || e.hasErrorCode(ErrorCodes.AUDIENCE_MISSING)) {
            return "Audience validation failed.";
        }
        if (e.hasErrorCode(ErrorCodes.ISSUER_INVALID) || e.hasErrorCode(ErrorCodes.ISSUER_MISSING)) {
            return "Issuer validation failed.";
        }
        if (e.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || e.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)) {
            return "Signature validation failed.";
        }
        String detail = String.valueOf(e.getMessage());
        if (detail.contains("critical")) {
            return "The token has an unsupported critical header.";
        }
        if (detail.contains("AlgorithmConstraints") || detail.contains("algorithm")) {
            return "Signature validation failed: the algorithm is not allowed.";
        }
        return "The token is malformed or its signature is invalid.";
    }
}
