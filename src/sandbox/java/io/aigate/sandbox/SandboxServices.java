package io.aigate.sandbox;

import io.aigate.cli.KeysCli;
import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwt.JwtClaims;

/**
 * The local sandbox ({@code ./mvnw quarkus:dev -Psandbox}): a real Redis, a fake Entra ID and a fake Azure OpenAI on
 * fixed loopback ports, started before aigate's own beans. Compiled only under the {@code sandbox} Maven profile, so
 * none of it ships in a production build.
 */
@IfBuildProfile("dev")
@Startup(-10)
@Singleton
public class SandboxServices {

    static final int REDIS_PORT = 16379;
    static final int ENTRA_PORT = 18081;
    static final int AOAI_PORT = 18082;
    private static final Logger LOG = Logger.getLogger(SandboxServices.class);
    private static final Path KEY_FILE = Path.of("target", "sandbox-subscription-key");
    private static final Path TOKEN_FILE = Path.of("target", "sandbox-caller-token");

    private final LocalRedis redis;
    private final FakeEntraId entra;
    private final FakeAzureOpenAi openAi;

    SandboxServices() {
        redis = new LocalRedis(REDIS_PORT).start();
        entra = FakeEntraId.start(ENTRA_PORT, System.getenv().getOrDefault("IDENTITY_HEADER", "sandbox"));
        openAi = FakeAzureOpenAi.start(AOAI_PORT);
        openAi.eventDelayMillis(150);
        LOG.infof(
                "sandbox: Redis on %s, fake Entra ID on %s, fake Azure OpenAI on %s",
                redis.url(), entra.identityEndpoint(), openAi.url());
        createSubscription();
        mintCallerToken();
    }

    /** A caller token from the sandbox's own issuer (a day long), for the Authorization header; to target/. */
    private void mintCallerToken() {
        RsaJsonWebKey key = entra.signingKey("sandbox-key", true);
        JwtClaims claims = FakeEntraId.appToken("sandbox-tenant", "api://aigate-sandbox", "sandbox-app");
        claims.setExpirationTimeMinutesInTheFuture(24 * 60);
        claims.setStringListClaim("roles", "Chat.Use");
        try {
            Files.createDirectories(TOKEN_FILE.getParent());
            Files.writeString(TOKEN_FILE, FakeEntraId.mint(key, claims));
            LOG.infof("sandbox: caller token for app 'sandbox-app' is in %s", TOKEN_FILE);
        } catch (IOException e) {
            LOG.warnf("sandbox: could not write %s: %s", TOKEN_FILE, e.getMessage());
        }
    }

    /** A subscription to call with, created through the real key-admin CLI; its key goes to target/. */
    private void createSubscription() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = KeysCli.execute(
                new PrintWriter(out, true),
                new PrintWriter(err, true),
                "--redis",
                redis.url(),
                "--output",
                "json",
                "create",
                "--name",
                "sandbox",
                "--id",
                "sandbox");
        String primary = exit == 0 ? new io.vertx.core.json.JsonObject(out.toString()).getString("primaryKey") : null;
        if (primary == null) {
            LOG.warnf("sandbox: could not create a subscription: %s", err);
            return;
        }
        try {
            Files.createDirectories(KEY_FILE.getParent());
            Files.writeString(KEY_FILE, primary);
            LOG.infof("sandbox: subscription 'sandbox' created; its key is in %s", KEY_FILE);
        } catch (IOException e) {
            LOG.warnf("sandbox: could not write %s: %s", KEY_FILE, e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        openAi.close();
        entra.close();
        redis.close();
    }
}
