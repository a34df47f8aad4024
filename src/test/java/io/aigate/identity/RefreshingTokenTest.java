package io.aigate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.credential.AccessToken;
import com.azure.core.credential.TokenCredential;
import io.aigate.pipeline.Outcome;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.testing.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class RefreshingTokenTest {

    private final Vertx vertx = Vertx.vertx();
    private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() {
        refresher.shutdownNow();
        vertx.close();
    }

    private RefreshingToken token(TokenCredential credential) {
        return new RefreshingToken(
                "test",
                credential,
                "https://cognitiveservices.azure.com",
                refresher,
                new SimpleMeterRegistry(),
                System::currentTimeMillis,
                Duration.ofMinutes(5),
                Duration.ofMillis(200),
                Duration.ofSeconds(1),
                Duration.ofSeconds(2));
    }

    private static Outcome authorize(RefreshingToken token, MultiMap headers) throws Exception {
        return token.authorize(headers)
                .toCompletionStage()
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
    }

    private static void await(BooleanSupplier condition, Duration timeout) throws Exception {
        Await.until("condition", timeout, condition::getAsBoolean);
    }

    @Test
    void aFailingRefreshKeepsTheValidTokenThenRefusesWith503OnceItExpires() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        TokenCredential credential = request -> calls.incrementAndGet() == 1
                ? Mono.just(new AccessToken("first-token", OffsetDateTime.now().plusSeconds(3)))
                : Mono.error(new IllegalStateException("Entra ID is down"));
        RefreshingToken token = token(credential);
        token.start();
        await(token::usable, Duration.ofSeconds(5));

        MultiMap headers = HttpHeaders.headers();
        assertTrue(authorize(token, headers).proceeds());
        assertEquals("Bearer first-token", headers.get("Authorization"));

        await(() -> calls.get() >= 3, Duration.ofSeconds(5)); // refresh at half-life failed, and retried
        assertTrue(token.usable(), "the still-valid token stays in use while refreshes fail");
        assertTrue(authorize(token, HttpHeaders.headers()).proceeds());

        await(() -> !token.usable(), Duration.ofSeconds(5));
        Outcome refused = authorize(token, HttpHeaders.headers());
        assertEquals(503, refused.refusal().status());
        int retryAfter = Integer.parseInt(refused.refusal().headers().get("Retry-After"));
        assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
        assertFalse(refused.refusal().message().contains("first-token"));
        assertTrue(token.state().startsWith("no valid token"), token.state());
    }

    @Test
    void aColdRequestWaitsForTheFirstFetchInsteadOfFailing() throws Exception {
        TokenCredential slow = request -> Mono.delay(Duration.ofMillis(500))
                .map(x -> new AccessToken("late-token", OffsetDateTime.now().plusHours(1)));
        RefreshingToken token = token(slow);
        token.start();
        MultiMap headers = HttpHeaders.headers();
        assertTrue(authorize(token, headers).proceeds());
        assertEquals("Bearer late-token", headers.get("Authorization"));
    }

    @Test
    void workloadIdentityExchangesTheProjectedTokenAtTheAuthorityOverHttps() throws Exception {
        try (FakeEntraId entra = FakeEntraId.start(0, "unused")
                .withHttps(0, Path.of("src/test/resources/tls/fake-entra.p12"), "changeit".toCharArray())) {
            Path federated = Files.createTempFile("federated-token", ".jwt");
            Files.writeString(federated, "projected-service-account-token");
            Map<String, String> env = Map.of(
                    EntraCredentials.FEDERATED_TOKEN_FILE,
                    federated.toString(),
                    EntraCredentials.TENANT_ID,
                    "tenant-1",
                    EntraCredentials.CLIENT_ID,
                    "workload-client",
                    EntraCredentials.AUTHORITY_HOST,
                    entra.authorityHost());
            TokenCredential credential = EntraCredentials.create(
                    name -> Optional.ofNullable(env.get(name)), Optional.empty(), EntraCredentials.httpClient(vertx));
            RefreshingToken token = token(credential);
            token.start();
            await(token::usable, Duration.ofSeconds(20));

            MultiMap headers = HttpHeaders.headers();
            assertTrue(authorize(token, headers).proceeds());
            assertTrue(entra.isValidBearer(headers.get("Authorization")), headers.get("Authorization"));
            assertEquals("projected-service-account-token", entra.lastClientAssertion());
            assertEquals("/tenant-1/oauth2/v2.0/token", entra.lastTokenRequestPath());
            assertEquals(1, entra.fetches("workload-client"));
            Files.delete(federated);
        }
    }

    @Test
    void resourcesBecomeScopes() {
        assertEquals(
                "https://cognitiveservices.azure.com/.default",
                RefreshingToken.scopeOf("https://cognitiveservices.azure.com"));
        assertEquals(
                "https://cognitiveservices.azure.com/.default",
                RefreshingToken.scopeOf("https://cognitiveservices.azure.com/"));
        assertEquals("api://x/.default", RefreshingToken.scopeOf("api://x/.default"));
    }
}
