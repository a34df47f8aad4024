package io.aigate.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.Keys;
import io.aigate.testing.LogCapture;
import io.aigate.testing.TestClock;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jose4j.base64url.Base64Url;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class ValidateJwtTest extends AigateTest {

    /** {@code aigate.jwt.unknown-key-cooldown} in the test configuration ({@code CloudDoubles}). */
    private static final Duration COOLDOWN = Duration.ofSeconds(2);

    @Inject
    TestClock clock;

    /** HTTP/1.1, as the SDKs speak it: a 17 KB header must reach aigate to get aigate's own answer. */
    HttpResponse<String> call(String deployment, String token) throws Exception {
        return call(deployment, token, CloudDoubles.key);
    }

    HttpResponse<String> call(String deployment, String token, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve("/openai/deployments/" + deployment + "/chat/completions"))
                .header("Ocp-Apim-Subscription-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JwtClaims claims() {
        return FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "client-app");
    }

    static String token(JwtClaims claims) {
        return FakeEntraId.mint(CloudDoubles.signingKey, claims);
    }

    static void assertAnswer(HttpResponse<String> response, int status, String message) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals(
                new JsonObject()
                        .put("statusCode", status)
                        .put("message", message)
                        .encode(),
                response.body());
    }

    void assertRefused401(String what, String token) throws Exception {
        HttpResponse<String> response = call("gpt-jwt", token);
        assertEquals(401, response.statusCode(), what + ": " + response.body());
        assertTrue(new JsonObject(response.body()).getString("message").endsWith("Access denied."), response.body());
        assertNull(CloudDoubles.openAi.next(0), what + " reached the backend");
    }

    static String sign(JsonWebSignature jws, JwtClaims claims, java.security.Key key, String alg) throws Exception {
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(alg);
        jws.setKey(key);
        jws.setDoKeyValidation(false);
        jws.setAlgorithmConstraints(AlgorithmConstraints.NO_CONSTRAINTS);
        return jws.getCompactSerialization();
    }

    @Test
    void aValidTokenPassesAndIsNeverForwarded() throws Exception {
        String token = token(claims());
        HttpResponse<String> response = call("gpt-jwt", token);
        assertEquals(200, response.statusCode(), response.body());
        FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
        assertTrue(CloudDoubles.entra.isValidBearer(got.header("Authorization")), "the backend got aigate's token");
        assertFalse(got.headers().toString().contains(token));
        assertEquals(200, call("gpt-jwt", token).statusCode(), "and again, from the verified-token cache");
    }

    @Test
    void v1AndV2IssuersOfTheTenantAreBothAccepted() throws Exception {
        JwtClaims v1 = claims();
        v1.setIssuer(FakeEntraId.issuerV1(CloudDoubles.TENANT));
        v1.unsetClaim("azp");
        v1.setClaim("appid", "client-app");
        assertEquals(200, call("gpt-jwt", token(v1)).statusCode());
        assertEquals(200, call("gpt-jwt", token(claims())).statusCode());
    }

    @Test
    void aMissingTokenIsApimsJwtNotPresent() throws Exception {
        assertAnswer(call("gpt-jwt", null), 401, "JWT not present.");
        assertAnswer(call("gpt-jwt", ""), 401, "JWT not present.");
        assertNull(CloudDoubles.openAi.next(0));
    }

    @Test
    void hostileTokensAreAllRefusedWith401AndNeverReachTheBackend() throws Exception {
        RsaJsonWebKey rogue = CloudDoubles.entra.signingKey("rogue", false);
        Map<String, String> hostile = new LinkedHashMap<>();

        JsonWebSignature none = new JsonWebSignature();
        none.setKeyIdHeaderValue("key-1");
        hostile.put("alg none", sign(none, claims(), null, AlgorithmIdentifiers.NONE));

        JsonWebSignature hmac = new JsonWebSignature();
        hmac.setKeyIdHeaderValue("key-1");
        hostile.put(
                "HS256 keyed with the RSA public key",
                sign(
                        hmac,
                        claims(),
                        new HmacKey(CloudDoubles.signingKey.getPublicKey().getEncoded()),
                        AlgorithmIdentifiers.HMAC_SHA256));

        hostile.put("signed by a key never published", FakeEntraId.mint(rogue, claims()));

        JsonWebSignature jku = new JsonWebSignature();
        jku.setKeyIdHeaderValue("rogue");
        jku.setHeader("jku", "http://127.0.0.1:1/keys.json");
        hostile.put("jku header", sign(jku, claims(), rogue.getPrivateKey(), AlgorithmIdentifiers.RSA_USING_SHA256));

        JsonWebSignature jwk = new JsonWebSignature();
        jwk.setKeyIdHeaderValue("key-1");
        jwk.setJwkHeader(rogue);
        hostile.put(
                "embedded jwk header",
                sign(jwk, claims(), rogue.getPrivateKey(), AlgorithmIdentifiers.RSA_USING_SHA256));

        JsonWebSignature crit = new JsonWebSignature();
        crit.setKeyIdHeaderValue("key-1");
        crit.setCriticalHeaderNames("x-must-understand");
        crit.setHeader("x-must-understand", "yes");
        hostile.put(
                "unknown crit",
                sign(crit, claims(), CloudDoubles.signingKey.getPrivateKey(), AlgorithmIdentifiers.RSA_USING_SHA256));

        JwtClaims expired = claims();
        expired.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 60));
        hostile.put("expired", token(expired));
        JwtClaims future = claims();
        future.setNotBefore(NumericDate.fromSeconds(NumericDate.now().getValue() + 300));
        hostile.put("nbf in the future", token(future));
        JwtClaims noExp = claims();
        noExp.unsetClaim("exp");
        hostile.put("no exp", token(noExp));
        JwtClaims audience = claims();
        audience.setAudience("api://someone-else");
        hostile.put("wrong audience", token(audience));
        JwtClaims issuer = claims();
        issuer.setIssuer("https://login.microsoftonline.com/other-tenant/v2.0");
        hostile.put("wrong issuer", token(issuer));
        hostile.put("two segments", "abc.def");
        hostile.put("five segments", "a.b.c.d.e");
        hostile.put("garbage segments", Base64Url.encodeUtf8ByteRepresentation("{") + ".x.y");
        JwtClaims huge = claims();
        huge.setClaim("padding", "x".repeat(17 * 1024));
        hostile.put("over 16 KB", token(huge));

        for (Map.Entry<String, String> entry : hostile.entrySet()) {
            assertRefused401(entry.getKey(), entry.getValue());
        }
    }

    @Test
    void rotatedKeysAreAcceptedWithinOneCooldownAndInventedKidsDoNotFloodEntra() throws Exception {
        clock.advance(COOLDOWN); // any earlier unknown-key fetch's cooldown has passed
        RsaJsonWebKey next = CloudDoubles.entra.signingKey("key-2", true);
        assertEquals(
                200,
                call("gpt-jwt", FakeEntraId.mint(next, claims())).statusCode(),
                "a key published since the last fetch is fetched and accepted at once");
        assertEquals(200, call("gpt-jwt", token(claims())).statusCode(), "the old key works while published");

        RsaJsonWebKey rogue = CloudDoubles.entra.signingKey("rogue-flood", false);
        int before = CloudDoubles.entra.jwksFetches();
        long floodStart = clock.millis();
        for (int i = 0; i < 30; i++) {
            JsonWebSignature jws = new JsonWebSignature();
            jws.setKeyIdHeaderValue("invented-" + i);
            String invented = sign(jws, claims(), rogue.getPrivateKey(), AlgorithmIdentifiers.RSA_USING_SHA256);
            assertEquals(401, call("gpt-jwt", invented).statusCode());
        }
        long cooldowns = (clock.millis() - floodStart) / COOLDOWN.toMillis() + 1;
        int fetched = CloudDoubles.entra.jwksFetches() - before;
        assertTrue(
                fetched <= cooldowns,
                "30 invented kids caused " + fetched + " fetches in " + cooldowns + " cooldown(s)");
        CloudDoubles.entra.unpublish("key-2");
    }

    @Test
    void aSlowKeyEndpointHoldsAnUnknownKeyForSecondsNotUntilItAnswers() throws Exception {
        CloudDoubles.entra.jwksDelay(5_000);
        int answered = CloudDoubles.entra.jwksAnswered();
        try {
            clock.advance(COOLDOWN);
            long start = System.nanoTime();
            HttpResponse<String> unknown =
                    call("gpt-jwt", FakeEntraId.mint(CloudDoubles.entra.signingKey("slow-kid", false), claims()));
            long waited = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(401, unknown.statusCode(), unknown.body());
            assertTrue(waited < 4_000, "answered after " + waited + " ms, not when the keys came");
            assertEquals(200, call("gpt-jwt", token(claims())).statusCode(), "a known key is judged at once");
        } finally {
            CloudDoubles.entra.jwksDelay(0);
            // the fetch goes on to its answer: later tests must not find it under way
            Await.until(
                    "the slow key fetch answered",
                    Duration.ofSeconds(10),
                    () -> CloudDoubles.entra.jwksAnswered() > answered);
        }
    }

    @Test
    void theLastGoodKeysStayInUseWhileTheKeyEndpointIsDown() throws Exception {
        CloudDoubles.entra.jwksDown(true);
        try {
            clock.advance(COOLDOWN);
            // a fetch is forced (unknown kid after the cooldown) and fails: the known key keeps working
            call("gpt-jwt", FakeEntraId.mint(CloudDoubles.entra.signingKey("not-there", false), claims()));
            assertEquals(200, call("gpt-jwt", token(claims())).statusCode());
        } finally {
            CloudDoubles.entra.jwksDown(false);
        }
    }

    @Test
    void rolesAndScopesAreMatchedPerRouteWithAnyOrAll() throws Exception {
        JwtClaims use = claims();
        use.setStringListClaim("roles", "Chat.Use");
        assertEquals(200, call("gpt-roles", token(use)).statusCode(), "any: one role suffices");
        JwtClaims other = claims();
        other.setStringListClaim("roles", "Files.Read", "Other");
        assertAnswer(
                call("gpt-roles", token(other)),
                403,
                "Claim roles value of Files.Read,Other is not allowed. Access denied.");
        assertAnswer(
                call("gpt-roles", token(claims())),
                403,
                "JWT token is missing the following claims: roles. Access denied.");

        JwtClaims both = claims();
        both.setClaim("scp", "chat.read chat.write files.read");
        assertEquals(200, call("gpt-scp", token(both)).statusCode(), "all: scp is one space-separated string");
        JwtClaims one = claims();
        one.setClaim("scp", "chat.read");
        assertAnswer(call("gpt-scp", token(one)), 403, "Claim scp value of chat.read is not allowed. Access denied.");
    }

    @Test
    void aKeyBoundToClientAppsIsUselessToAnyOtherApp() throws Exception {
        Keys.Run bound =
                Keys.ok(CloudDoubles.redis.url(), "create", "--name", "bound", "--allowed-client-apps", "client-app");
        String key = bound.key("Primary");
        assertEquals(200, call("gpt-4o", token(claims()), key).statusCode(), "the bound app, on a route with no rule");
        JwtClaims thief = FakeEntraId.appToken(CloudDoubles.TENANT, CloudDoubles.AUDIENCE, "thief-app");
        CloudDoubles.openAi.clear();
        assertAnswer(
                call("gpt-4o", token(thief), key), 403, "Claim azp value of thief-app is not allowed. Access denied.");
        assertAnswer(call("gpt-4o", null, key), 401, "JWT not present.");
        assertNull(CloudDoubles.openAi.next(0));
    }

    @Test
    void noTokenAppearsInAnyLogLine() throws Exception {
        String good = token(claims());
        JwtClaims expired = claims();
        expired.setExpirationTime(NumericDate.fromSeconds(NumericDate.now().getValue() - 60));
        String bad = token(expired);
        try (LogCapture logs = LogCapture.start()) {
            call("gpt-jwt", good);
            call("gpt-jwt", bad);
            Await.until(
                    "the refusal was logged",
                    Duration.ofSeconds(2),
                    () -> !logs.lines().isEmpty());
            for (String line : logs.lines()) {
                for (String token : List.of(good, bad)) {
                    assertFalse(line.contains(token.substring(token.lastIndexOf('.') + 1)), line);
                    assertFalse(line.contains(token.substring(0, token.indexOf('.'))), line);
                }
            }
        }
    }
}
