package io.aigate.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeEntraId;
import java.util.List;
import java.util.Set;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The signature and standard-claim checks alone, against keys and tokens made here: no Entra, no HTTP. */
class TokenVerifierTest {

    private static final String TENANT = "tenant-1";
    private static final String AUDIENCE = "api://aigate";
    private static final Set<String> ISSUERS = Set.of(FakeEntraId.issuerV2(TENANT));

    private static RsaJsonWebKey key;
    private static List<JsonWebKey> keys;
    private final TokenVerifier verifier = new TokenVerifier(List.of("RS256"), 60, true, List.of(AUDIENCE));

    @BeforeAll
    static void keys() throws Exception {
        key = RsaJwkGenerator.generateJwk(2048);
        key.setKeyId("k1");
        key.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
        keys = List.of(JsonWebKey.Factory.newJwk(key.toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY)));
    }

    private static JwtClaims claims() {
        return FakeEntraId.appToken(TENANT, AUDIENCE, "app-1");
    }

    private TokenVerifier.Invalid refused(String token) {
        return assertInstanceOf(TokenVerifier.Invalid.class, verifier.verify(token, keys, ISSUERS));
    }

    @Test
    void aWellSignedTokenIsValidUntilItsExpiry() throws Exception {
        JwtClaims claims = claims();
        TokenVerifier.Valid valid = assertInstanceOf(
                TokenVerifier.Valid.class, verifier.verify(FakeEntraId.mint(key, claims), keys, ISSUERS));
        assertEquals("app-1", valid.claims().getClaimValue("azp"));
        assertEquals(claims.getClaimValue("exp", Long.class) * 1000, valid.expiresAtMillis());
    }

    @Test
    void issuerAudienceAndLifetimeAreChecked() throws Exception {
        JwtClaims otherIssuer = claims();
        otherIssuer.setIssuer(FakeEntraId.issuerV2("other-tenant"));
        assertFalse(refused(FakeEntraId.mint(key, otherIssuer)).unknownKey());
        JwtClaims otherAudience = claims();
        otherAudience.setAudience("api://someone-else");
        refused(FakeEntraId.mint(key, otherAudience));
        JwtClaims expired = claims();
        expired.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 120));
        assertTrue(refused(FakeEntraId.mint(key, expired)).message().startsWith("Lifetime validation failed"));
        JwtClaims early = claims();
        early.setNotBefore(NumericDate.fromSeconds(NumericDate.now().getValue() + 600));
        refused(FakeEntraId.mint(key, early));
        JwtClaims forever = claims();
        forever.unsetClaim("exp");
        refused(FakeEntraId.mint(key, forever));
    }

    @Test
    void anUnknownKeyIsSaidToBeUnknownSoOneFetchCanBeTried() throws Exception {
        RsaJsonWebKey stranger = RsaJwkGenerator.generateJwk(2048);
        stranger.setKeyId("k2");
        TokenVerifier.Invalid invalid = refused(FakeEntraId.mint(stranger, claims()));
        assertTrue(invalid.unknownKey(), invalid.message());
        // the right kid with another key's signature is a bad signature, not an unknown key
        stranger.setKeyId("k1");
        assertFalse(refused(FakeEntraId.mint(stranger, claims())).unknownKey());
    }

    @Test
    void algorithmsOutsideTheAllowListAreRefusedWhateverTheyClaim() throws Exception {
        // "none": no signature at all
        JsonWebSignature none = new JsonWebSignature();
        none.setPayload(claims().toJson());
        none.setAlgorithmConstraints(org.jose4j.jwa.AlgorithmConstraints.NO_CONSTRAINTS);
        none.setAlgorithmHeaderValue(AlgorithmIdentifiers.NONE);
        none.setKeyIdHeaderValue("k1");
        refused(none.getCompactSerialization());
        // HS256 keyed with the public key's bytes: the classic algorithm confusion
        JsonWebSignature confused = new JsonWebSignature();
        confused.setPayload(claims().toJson());
        confused.setAlgorithmHeaderValue(AlgorithmIdentifiers.HMAC_SHA256);
        confused.setKeyIdHeaderValue("k1");
        confused.setKey(new HmacKey(key.getPublicKey().getEncoded()));
        refused(confused.getCompactSerialization());
    }

    @Test
    void aKeyNamedInsideTheTokenIsNeverUsed() throws Exception {
        RsaJsonWebKey attacker = RsaJwkGenerator.generateJwk(2048);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims().toJson());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        jws.setKeyIdHeaderValue("k9");
        jws.getHeaders().setJwkHeaderValue("jwk", attacker);
        jws.setHeader("jku", "http://127.0.0.1:1/keys");
        jws.setKey(attacker.getPrivateKey());
        refused(jws.getCompactSerialization());
    }

    @Test
    void unknownCriticalHeadersAndGarbageAreRefused() throws Exception {
        JsonWebSignature crit = new JsonWebSignature();
        crit.setPayload(claims().toJson());
        crit.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
        crit.setKeyIdHeaderValue("k1");
        crit.setCriticalHeaderNames("x-unheard-of");
        crit.setHeader("x-unheard-of", "1");
        crit.setKey(key.getPrivateKey());
        refused(crit.getCompactSerialization());
        for (String garbage : List.of("", "a.b.c", "not a token", "eyJhbGciOiJSUzI1NiJ9..", ".....")) {
            refused(garbage);
        }
    }
}
