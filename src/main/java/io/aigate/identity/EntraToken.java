package io.aigate.identity;

import com.azure.core.credential.TokenRequestContext;
import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Function;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;

/**
 * The sidecar's own Entra ID token for a resource other than a backend (Azure Cache for Redis, Key Vault), from the same
 * identity and with the same refresh-ahead, backoff and metrics as layer 3's. Nothing is stored: the token lives in
 * memory and is replaced before it expires.
 */
public final class EntraToken {

    private final RefreshingToken token;
    private final ScheduledExecutorService refresher;

    private EntraToken(RefreshingToken token, ScheduledExecutorService refresher) {
        this.token = token;
        this.refresher = refresher;
    }

    /** Starts fetching now, on a thread of its own (azure-identity blocks). */
    public static EntraToken start(
            String label,
            String resource,
            Optional<String> clientId,
            Vertx vertx,
            MeterRegistry registry,
            AigateConfig.Identity identity) {
        return start(label, resource, clientId, vertx, registry, identity, env());
    }

    /** @param env the environment as the credential should see it (tests give their own) */
    public static EntraToken start(
            String label,
            String resource,
            Optional<String> clientId,
            Vertx vertx,
            MeterRegistry registry,
            AigateConfig.Identity identity,
            Function<String, Optional<String>> env) {
        ScheduledExecutorService refresher = RefreshingToken.refreshThread(label);
        RefreshingToken token =
                RefreshingToken.of(label, credential(env, clientId, vertx), resource, refresher, registry, identity);
        token.start();
        return new EntraToken(token, refresher);
    }

    /** One token, fetched now and not refreshed: for a command that runs for seconds (the key-admin CLI). */
    public static String fetchOnce(String resource, Optional<String> clientId, Vertx vertx) {
        return credential(env(), clientId, vertx)
                .getTokenSync(new TokenRequestContext().addScopes(RefreshingToken.scopeOf(resource)))
                .getToken();
    }

    /** The credential for this pod's identity, speaking HTTP through the sidecar's own Vert.x. */
    private static com.azure.core.credential.TokenCredential credential(
            Function<String, Optional<String>> env, Optional<String> clientId, Vertx vertx) {
        return EntraCredentials.create(env, clientId, EntraCredentials.httpClient(vertx));
    }

    /** One token for the person at the keyboard, from their {@code az login} (the key-admin CLI on a workstation). */
    public static String fetchOnceFromAzureCli(String resource) {
        return new com.azure.identity.AzureCliCredentialBuilder()
                .build()
                .getTokenSync(new TokenRequestContext().addScopes(RefreshingToken.scopeOf(resource)))
                .getToken();
    }

    /** The current token while it is usable, else null. */
    public String current() {
        return token.token();
    }

    /** Completes once the first fetch succeeded or failed. */
    public Future<Void> firstAttempt() {
        return token.firstAttempt();
    }

    /** Told each new token right after it arrives, on the refresh thread. */
    public void onNewToken(Consumer<String> listener) {
        token.onNewToken(listener);
    }

    public String state() {
        return token.state();
    }

    public void stop() {
        refresher.shutdownNow();
    }

    /**
     * The object id of the identity a token was issued to ({@code oid}): Azure Cache for Redis and Azure Managed Redis
     * take it as the user name. The token came from Entra ID over TLS a moment ago; its signature is the service's to
     * check, so it is read without verification here.
     */
    public static Optional<String> objectId(String token) {
        try {
            JwtClaims claims = new JwtConsumerBuilder()
                    .setSkipSignatureVerification()
                    .setSkipAllValidators()
                    .setDisableRequireSignature()
                    .build()
                    .processToClaims(token);
            return Optional.ofNullable(claims.getClaimValueAsString("oid"));
        } catch (InvalidJwtException e) {
            return Optional.empty();
        }
    }

    private static Function<String, Optional<String>> env() {
        return name -> ConfigProvider.getConfig().getOptionalValue(name, String.class);
    }
}
