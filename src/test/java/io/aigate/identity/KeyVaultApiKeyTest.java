package io.aigate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.core.credential.TokenCredential;
import io.aigate.config.SecretId;
import io.aigate.pipeline.Outcome;
import io.aigate.sandbox.FakeEntraId;
import io.aigate.sandbox.FakeKeyVault;
import io.aigate.testing.Await;
import io.aigate.testing.LogCapture;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A provider key read from Key Vault with the sidecar's workload identity, against a fake Entra ID and a fake Key Vault
 * that speak real HTTPS on loopback: the Azure SDK's SecretClient meets the vault's challenge, exchanges the federated
 * token, reads the secret; a rotated secret is picked up without a restart; an unreachable vault keeps the key read.
 */
class KeyVaultApiKeyTest {

    static final Path KEY_STORE = Path.of("src/test/resources/tls/fake-entra.p12");
    static Vertx vertx;
    static FakeEntraId entra;
    static FakeKeyVault vault;
    static TokenCredential credential;
    static Path federated;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        entra = FakeEntraId.start(0, "unused").withHttps(0, KEY_STORE, "changeit".toCharArray());
        vault = FakeKeyVault.start(entra, "tenant-kv", KEY_STORE, "changeit".toCharArray());
        federated = Files.createTempFile("federated-token", ".jwt");
        Files.writeString(federated, "projected-service-account-token");
        Map<String, String> env = Map.of(
                EntraCredentials.FEDERATED_TOKEN_FILE,
                federated.toString(),
                EntraCredentials.TENANT_ID,
                "tenant-kv",
                EntraCredentials.CLIENT_ID,
                "kv-client",
                EntraCredentials.AUTHORITY_HOST,
                entra.authorityHost());
        credential = EntraCredentials.create(
                name -> Optional.ofNullable(env.get(name)), Optional.empty(), EntraCredentials.httpClient(vertx));
    }

    @AfterAll
    static void stop() throws Exception {
        vault.close();
        entra.close();
        vertx.close();
        Files.deleteIfExists(federated);
    }

    static KeyVaultApiKey key(String secretId, ScheduledExecutorService refresher) {
        return KeyVaultApiKey.start(
                "mistral",
                "Authorization",
                "Bearer ",
                secretId,
                credential,
                EntraCredentials.httpClient(vertx),
                refresher,
                Duration.ofMillis(300),
                Duration.ofMillis(100),
                Duration.ofSeconds(1));
    }

    static Outcome authorize(KeyVaultApiKey key, MultiMap headers) throws Exception {
        return key.authorize(headers).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    static void await(BooleanSupplier condition, String what) throws Exception {
        Await.until(what, Duration.ofSeconds(20), condition::getAsBoolean);
    }

    @Test
    void theKeyIsReadWithTheSidecarsIdentityAndARotationNeedsNoRestart() throws Exception {
        vault.put("mistral-key", "sk-first-0000");
        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor();
        try (LogCapture logs = LogCapture.start()) {
            KeyVaultApiKey key = key(vault.url() + "/secrets/mistral-key", refresher);
            await(key::usable, "the key was read from Key Vault");
            MultiMap headers = HttpHeaders.headers();
            assertTrue(authorize(key, headers).proceeds());
            assertEquals("Bearer sk-first-0000", headers.get("Authorization"));

            vault.put("mistral-key", "sk-second-1111");
            await(
                    () -> {
                        MultiMap h = HttpHeaders.headers();
                        key.authorize(h);
                        return "Bearer sk-second-1111".equals(h.get("Authorization"));
                    },
                    "the rotated secret is used without a restart");

            vault.down(true);
            int reads = vault.reads();
            // the SDK retries a 503 itself before the read counts as failed
            await(() -> key.state().contains("reads failing"), "the failed read is reported: " + key.state());
            MultiMap during = HttpHeaders.headers();
            assertTrue(authorize(key, during).proceeds(), "an unreachable vault keeps the key already read");
            assertEquals("Bearer sk-second-1111", during.get("Authorization"));
            assertEquals(reads, vault.reads());
            vault.down(false);
            await(() -> !key.state().contains("reads failing"), "reads recover by themselves");
            for (String line : logs.lines()) {
                assertFalse(line.contains("sk-first") || line.contains("sk-second"), "a key was logged: " + line);
            }
        } finally {
            vault.down(false);
            refresher.shutdownNow();
        }
    }

    @Test
    void withoutAnyKeyReadRequestsGet503WithRetryAfter() throws Exception {
        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor();
        try {
            int before = vault.asked();
            KeyVaultApiKey key = key(vault.url() + "/secrets/no-such-secret", refresher);
            await(() -> vault.asked() > before, "the vault was asked");
            assertFalse(key.usable());
            Outcome refused = authorize(key, HttpHeaders.headers());
            assertFalse(refused.proceeds());
            assertEquals(503, refused.refusal().status());
            assertTrue(
                    refused.refusal().headers().containsKey("Retry-After"),
                    refused.refusal().headers().toString());
        } finally {
            refresher.shutdownNow();
        }
    }

    @Test
    void onlySecretIdentifiersAreAccepted() {
        assertEquals(
                new SecretId("https://kv.vault.azure.net", "k", null),
                SecretId.parse("https://kv.vault.azure.net/secrets/k"));
        assertEquals(
                "v2", SecretId.parse("https://kv.vault.azure.net/secrets/k/v2").version());
        for (String bad : new String[] {
            "http://kv.vault.azure.net/secrets/k",
            "https://kv.vault.azure.net/keys/k",
            "https://kv.vault.azure.net/secrets/",
            "https://kv.vault.azure.net/secrets/k?x=1",
            "not a url"
        }) {
            assertThrows(IllegalArgumentException.class, () -> SecretId.parse(bad), bad);
        }
    }
}
