package io.aigate.identity;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.security.keyvault.secrets.SecretClient;
import com.azure.security.keyvault.secrets.SecretClientBuilder;
import io.aigate.config.SecretId;
import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.Refreshed;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * A provider API key (OpenAI-compatible providers) read from Azure Key Vault with the sidecar's own identity: nothing
 * is mounted or stored, and a rotated secret is picked up at the next read, without a restart. Reads run on their own
 * thread (the SDK blocks); a failed read keeps the key already read and retries with backoff; only while no key was
 * ever read do requests get 503 with Retry-After. The key's value is never logged.
 */
final class KeyVaultApiKey implements BackendCredential {

    private static final Logger LOG = Logger.getLogger(KeyVaultApiKey.class);

    private final String backend;
    private final String headerName;
    private final String prefix;
    private final SecretClient client;
    private final String name;
    private final String version;
    private final long everyMillis;
    /** The header's value: the prefix and the secret. */
    private final Refreshed<String> headerValue;

    private KeyVaultApiKey(
            String backend,
            String headerName,
            String prefix,
            SecretClient client,
            String name,
            String version,
            ScheduledExecutorService refresher,
            Duration every,
            Duration retryInitial,
            Duration retryMax) {
        this.backend = backend;
        this.headerName = headerName;
        this.prefix = prefix;
        this.client = client;
        this.name = name;
        this.version = version;
        this.everyMillis = every.toMillis();
        this.headerValue = new Refreshed<>(
                        "backend " + backend + ": api key from Key Vault",
                        this::read,
                        Refreshed.onThread(refresher),
                        // never retry later than the next regular read would come
                        new Backoff(retryInitial.toMillis(), Math.min(retryMax.toMillis(), everyMillis)),
                        System::currentTimeMillis)
                .onChange((previous, current) -> {
                    if (previous != null) {
                        LOG.infof("backend %s: api key read from Key Vault (a new version)", backend);
                    }
                });
    }

    /**
     * @param secretId the secret's identifier, {@code https://<vault>.vault.azure.net/secrets/<name>[/<version>]};
     *                 without a version, the current one is read each time
     */
    static KeyVaultApiKey start(
            String backend,
            String headerName,
            String prefix,
            String secretId,
            TokenCredential credential,
            HttpClient http,
            ScheduledExecutorService refresher,
            Duration every,
            Duration retryInitial,
            Duration retryMax) {
        SecretId id = SecretId.parse(secretId);
        SecretClientBuilder builder = new SecretClientBuilder()
                .vaultUrl(id.vault())
                .credential(credential)
                .httpClient(http);
        if (io.aigate.config.Loopback.url(id.vault())) {
            // the challenge names vault.azure.net, which a loopback vault (tests, sandbox) is not
            builder.disableChallengeResourceVerification();
        }
        KeyVaultApiKey key = new KeyVaultApiKey(
                backend,
                headerName,
                prefix,
                builder.buildClient(),
                id.name(),
                id.version(),
                refresher,
                every,
                retryInitial,
                retryMax);
        key.headerValue.start();
        return key;
    }

    /** One read, on the refresh thread (the SDK blocks). The SDK's failures name the vault and status, never a value. */
    private Future<Refreshed.Fetched<String>> read() {
        String value = client.getSecret(name, version).getValue();
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("the secret is empty");
        }
        return Future.succeededFuture(new Refreshed.Fetched<>(prefix + value.trim(), everyMillis));
    }

    @Override
    public Future<Outcome> authorize(MultiMap outboundHeaders) {
        String value = headerValue.value();
        if (value != null) {
            outboundHeaders.set(headerName, value);
            return Policy.PROCEED;
        }
        return Future.succeededFuture(Outcome.refuse(CredentialRefusal.until(
                CredentialRefusal.Kind.KEY_VAULT_KEY, headerValue.nextAttemptAtMillis(), System.currentTimeMillis())));
    }

    @Override
    public boolean usable() {
        return headerValue.value() != null;
    }

    @Override
    public String state() {
        String s = headerValue.value() != null ? "api key from Key Vault" : "no api key read from Key Vault yet";
        String lastFailure = headerValue.lastFailure();
        return lastFailure == null ? s : s + ", reads failing (" + lastFailure + ")";
    }
}
