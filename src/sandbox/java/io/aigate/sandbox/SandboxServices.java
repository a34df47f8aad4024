package io.aigate.sandbox;

import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

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

    private final LocalRedis redis;
    private final FakeEntraId entra;
    private final FakeAzureOpenAi openAi;

    SandboxServices() {
        redis = new LocalRedis(REDIS_PORT).start();
        entra = FakeEntraId.start(ENTRA_PORT, System.getenv().getOrDefault("IDENTITY_HEADER", "sandbox"));
        openAi = FakeAzureOpenAi.start(AOAI_PORT);
        openAi.eventDelayMillis(150);
        LOG.infof("sandbox: Redis on %s, fake Entra ID on %s, fake Azure OpenAI on %s", redis.url(),
                entra.identityEndpoint(), openAi.url());
    }

    void stop(@Observes ShutdownEvent event) {
        openAi.close();
        entra.close();
        redis.close();
    }
}
