package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.config.BackendUrl;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Each backend's connection pools, one per event loop: the connection that carries a request then lives on the same
 * thread as the caller's, so relaying a chunk never hops threads. Each has the backend's own timeouts.
 */
@Singleton
public class BackendClients {

    /** Where one backend is, how long it may take, and its pools. */
    record Backend(
            String name,
            ThreadLocal<HttpClient> clients,
            List<HttpClient> all,
            String host,
            int port,
            boolean ssl,
            String basePath,
            String stripPrefix,
            long connectTimeoutMillis,
            long timeoutMillis,
            Map<String, String> deploymentNames) {

        HttpClient client() {
            return clients.get();
        }

        /** This backend's name for a deployment (folded, as routes compare them), or null when it uses the caller's. */
        String deploymentName(String deployment) {
            return deployment == null ? null : deploymentNames.get(deployment);
        }

        String uri(String path, String query) {
            String rest = path;
            if (stripPrefix != null && rest.startsWith(stripPrefix)) {
                rest = rest.substring(stripPrefix.length());
                if (!rest.startsWith("/")) {
                    rest = "/" + rest;
                }
            }
            String full = basePath + rest;
            return query == null || query.isEmpty() ? full : full + '?' + query;
        }
    }

    /**
     * How often each event loop's pool closes connections idle past their keep-alive (60 s). Vert.x's default sweep,
     * every second, woke an idle sidecar 60 times a minute per event loop; a connection now lives 60–75 s idle.
     */
    static final int POOL_CLEANER_MILLIS = 15_000;

    private final Map<String, Backend> backends = new HashMap<>();

    BackendClients(AigateConfig config, Vertx vertx) {
        config.backends().forEach((name, b) -> {
            BackendUrl url = BackendUrl.parse(b.url().orElseThrow());
            boolean ssl = url.ssl();
            HttpClientOptions options = new HttpClientOptions()
                    .setSsl(ssl)
                    .setVerifyHost(true)
                    .setKeepAlive(true)
                    .setTcpNoDelay(true)
                    .setConnectTimeout((int) b.connectTimeout().toMillis())
                    // no reader-idle timeout on the connection: it would count from the last read of a kept-alive
                    // connection, not from this request; the request's timeout and AnswerSilence watch instead
                    // compressed bodies are relayed as they are; aigate never inflates them itself
                    .setDecompressionSupported(false)
                    .setTryUseCompression(false)
                    // each attempt carries its own span's traceparent, set by aigate (Tracing), never Vert.x's
                    .setTracingPolicy(io.vertx.core.tracing.TracingPolicy.IGNORE)
                    // Vert.x arms the first sweep from these options and the later ones from PoolOptions
                    .setPoolCleanerPeriod(POOL_CLEANER_MILLIS);
            List<HttpClient> all = new CopyOnWriteArrayList<>();
            ThreadLocal<HttpClient> clients = ThreadLocal.withInitial(() -> {
                HttpClient client = vertx.httpClientBuilder()
                        .with(options)
                        // a full pool answers at once rather than queueing a request until its connect timeout:
                        // the wait would end as a timeout, charged to a backend that did nothing wrong
                        .with(new PoolOptions()
                                .setHttp1MaxSize(b.maxConnections())
                                .setMaxWaitQueueSize(0)
                                .setCleanerPeriod(POOL_CLEANER_MILLIS))
                        .build();
                all.add(client);
                return client;
            });
            backends.put(
                    name,
                    new Backend(
                            name,
                            clients,
                            all,
                            url.host(),
                            url.port(),
                            ssl,
                            url.basePath(),
                            b.stripPrefix().orElse(null),
                            b.connectTimeout().toMillis(),
                            b.timeout().toMillis(),
                            folded(b.deploymentNames())));
        });
    }

    private static Map<String, String> folded(Map<String, String> names) {
        Map<String, String> folded = new HashMap<>();
        names.forEach((caller, own) -> folded.put(RouteTable.fold(caller), own));
        return Map.copyOf(folded);
    }

    /** @return the backend; names are checked at start-up, so a routed request always finds its own */
    Backend get(String name) {
        return backends.get(name);
    }

    void close(@Observes ShutdownEvent event) {
        backends.values().forEach(b -> b.all().forEach(HttpClient::close));
    }
}
