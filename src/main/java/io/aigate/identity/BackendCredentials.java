package io.aigate.identity;

import com.azure.core.http.HttpClient;
import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * One credential per backend, built at start-up. Backends that share a resource and identity share one token, so a
 * pod with five Azure OpenAI backends still asks Entra ID for one token per lifetime.
 */
@Startup
@Singleton
public class BackendCredentials {

    private static final long API_KEY_FILE_RECHECK_MILLIS = 30_000;

    private final Map<String, BackendCredential> byBackend = new LinkedHashMap<>();
    private final List<ScheduledExecutorService> refreshers = new ArrayList<>();

    BackendCredentials(AigateConfig config, Vertx vertx, MeterRegistry registry) {
        Function<String, Optional<String>> env =
                name -> ConfigProvider.getConfig().getOptionalValue(name, String.class);
        // built on first use: a sidecar whose backends take no Entra token never loads azure-core's HTTP stack
        HttpClient[] built = new HttpClient[1];
        Supplier<HttpClient> entraHttp = () -> {
            if (built[0] == null) {
                built[0] = EntraCredentials.httpClient(vertx);
            }
            return built[0];
        };
        AigateConfig.Identity identity = config.identity();
        Map<String, RefreshingToken> tokens = new HashMap<>();
        config.backends().forEach((name, backend) -> {
            String prefix = backend.apiKeyScheme().map(scheme -> scheme + " ").orElse("");
            BackendCredential credential = switch (backend.credential()) {
                case NONE -> new NoCredential();
                case API_KEY ->
                    backend.apiKeySecret().isPresent()
                            ? KeyVaultApiKey.start(
                                    name,
                                    backend.apiKeyHeader(),
                                    prefix,
                                    backend.apiKeySecret().get(),
                                    EntraCredentials.create(env, backend.clientId(), entraHttp.get()),
                                    entraHttp.get(),
                                    refresher(),
                                    backend.apiKeyRefresh(),
                                    identity.retryInitialDelay(),
                                    identity.retryMaxDelay())
                            : backend.apiKeyFile()
                                    .<BackendCredential>map(file -> ProviderApiKey.fromFile(
                                            vertx,
                                            name,
                                            backend.apiKeyHeader(),
                                            prefix,
                                            file,
                                            API_KEY_FILE_RECHECK_MILLIS))
                                    .orElseGet(() -> ProviderApiKey.fromValue(
                                            name,
                                            backend.apiKeyHeader(),
                                            prefix,
                                            env.apply(backend.apiKeyEnv().orElseThrow())
                                                    .orElseThrow()));
                case MANAGED_IDENTITY -> {
                    String label = backend.resource()
                            + backend.clientId().map(id -> "|" + id).orElse("");
                    yield tokens.computeIfAbsent(
                            label,
                            l -> RefreshingToken.of(
                                    l,
                                    EntraCredentials.create(env, backend.clientId(), entraHttp.get()),
                                    backend.resource(),
                                    refresher(),
                                    registry,
                                    identity));
                }
            };
            byBackend.put(name, credential);
        });
        tokens.values().forEach(RefreshingToken::start);
    }

    /** A refresh thread per identity ({@link RefreshingToken#refreshThread}), closed at shutdown. */
    private ScheduledExecutorService refresher() {
        ScheduledExecutorService refresher = RefreshingToken.refreshThread(Integer.toString(refreshers.size()));
        refreshers.add(refresher);
        return refresher;
    }

    /** @return the backend's credential; backends are validated at start-up, so the name always exists */
    public BackendCredential forBackend(String backend) {
        return byBackend.get(backend);
    }

    public Map<String, BackendCredential> all() {
        return byBackend;
    }

    void stop(@Observes ShutdownEvent event) {
        refreshers.forEach(ScheduledExecutorService::shutdownNow);
    }
}
