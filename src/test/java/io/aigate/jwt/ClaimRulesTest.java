package io.aigate.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import java.util.List;
import java.util.Set;
import org.jose4j.jwt.JwtClaims;
import org.junit.jupiter.api.Test;

/** APIM's required-claims and aigate's client-app binding, judged on claims alone. */
class ClaimRulesTest {

    private static ClaimRules.Rule any(String claim, String... values) {
        return new ClaimRules.Rule(claim, List.of(values), AigateConfig.Match.ANY, claim.equals("scp") ? " " : null);
    }

    private static ClaimRules.Rule all(String claim, String... values) {
        return new ClaimRules.Rule(claim, List.of(values), AigateConfig.Match.ALL, claim.equals("scp") ? " " : null);
    }

    private static JwtClaims claims() {
        JwtClaims claims = new JwtClaims();
        claims.setClaim("azp", "app-1");
        return claims;
    }

    @Test
    void anyNeedsOneValueAndAllNeedsEvery() {
        JwtClaims claims = claims();
        claims.setStringListClaim("roles", "Chat.Use", "Files.Read");
        assertNull(ClaimRules.check(List.of(any("roles", "Chat.Use", "Admin")), Set.of(), claims));
        assertNull(ClaimRules.check(List.of(all("roles", "Chat.Use", "Files.Read")), Set.of(), claims));
        assertEquals(
                "Claim roles value of Chat.Use,Files.Read is not allowed. Access denied.",
                ClaimRules.check(List.of(all("roles", "Chat.Use", "Admin")), Set.of(), claims));
        assertEquals(
                "Claim roles value of Chat.Use,Files.Read is not allowed. Access denied.",
                ClaimRules.check(List.of(any("roles", "Admin")), Set.of(), claims));
    }

    @Test
    void scpIsOneSpaceSeparatedStringAndNoSubstringMatches() {
        JwtClaims claims = claims();
        claims.setClaim("scp", "chat.read  chat.write");
        assertNull(ClaimRules.check(List.of(all("scp", "chat.read", "chat.write")), Set.of(), claims));
        claims.setClaim("scp", "chat.readwrite");
        assertEquals(
                "Claim scp value of chat.readwrite is not allowed. Access denied.",
                ClaimRules.check(List.of(any("scp", "chat.read")), Set.of(), claims));
    }

    @Test
    void aStringClaimWithoutSeparatorIsOneValueNotAList() {
        JwtClaims claims = claims();
        claims.setClaim("groups", "a,b");
        assertEquals(
                "Claim groups value of a,b is not allowed. Access denied.",
                ClaimRules.check(List.of(any("groups", "a")), Set.of(), claims));
    }

    @Test
    void everyMissingClaimIsNamedAtOnce() {
        assertEquals(
                "JWT token is missing the following claims: roles, scp. Access denied.",
                ClaimRules.check(List.of(any("roles", "x"), any("scp", "y")), Set.of(), claims()));
    }

    @Test
    void aBoundSubscriptionNeedsTheAppInAzpOrAppid() {
        assertNull(ClaimRules.check(List.of(), Set.of("app-1"), claims()));
        assertEquals(
                "Claim azp value of app-1 is not allowed. Access denied.",
                ClaimRules.check(List.of(), Set.of("app-2"), claims()));
        JwtClaims v1 = new JwtClaims();
        v1.setClaim("appid", "app-2");
        assertNull(ClaimRules.check(List.of(), Set.of("app-2"), v1), "v1 tokens name the app in appid");
        assertEquals(
                "JWT token is missing the following claims: azp. Access denied.",
                ClaimRules.check(List.of(), Set.of("app-2"), new JwtClaims()));
        JwtClaims numeric = new JwtClaims();
        numeric.setClaim("azp", 42);
        assertEquals(
                "JWT token is missing the following claims: azp. Access denied.",
                ClaimRules.check(List.of(), Set.of("42"), numeric),
                "only a string names an app");
    }

    @Test
    void claimValuesGoBackShortAndPrintable() {
        JwtClaims claims = claims();
        claims.setClaim("roles", "r\u0000\u00e9\n" + "x".repeat(500));
        String message = ClaimRules.check(List.of(any("roles", "Chat.Use")), Set.of(), claims);
        assertTrue(message.startsWith("Claim roles value of r???xxx"), message);
        assertTrue(message.length() < 200, message);
        assertTrue(message.chars().allMatch(c -> c >= 0x20 && c < 0x7f || c == '\u2026'), message);
    }
}
