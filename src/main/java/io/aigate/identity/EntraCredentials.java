package io.aigate.identity;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.ProxyOptions;
import com.azure.core.http.vertx.VertxHttpClientBuilder;
import com.azure.core.util.Configuration;
import com.azure.core.util.ConfigurationBuilder;
import com.azure.core.util.ConfigurationSource;
import com.azure.identity.ManagedIdentityCredentialBuilder;
import com.azure.identity.WorkloadIdentityCredentialBuilder;
import io.aigate.config.Loopback;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.ProxyType;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Chooses the azure-identity credential the way AKS expects: workload identity when the webhook has projected a
 * federated token ({@code AZURE_FEDERATED_TOKEN_FILE}), otherwise the managed identity of the node or platform
 * ({@code IDENTITY_ENDPOINT}/{@code IDENTITY_HEADER}, {@code MSI_ENDPOINT}, or the instance-metadata endpoint).
 */
final class EntraCredentials {

    static final String FEDERATED_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE";
    static final String TENANT_ID = "AZURE_TENANT_ID";
    static final String CLIENT_ID = "AZURE_CLIENT_ID";
    static final String AUTHORITY_HOST = "AZURE_AUTHORITY_HOST";

    private static final Pattern NO_PROXY_ESCAPES = Pattern.compile("(\\?|\\\\|\\(|\\)|\\\\E|\\\\Q|\\.\\.)");

    private EntraCredentials() {}

    /**
     * @param env the environment as configuration sees it (environment variables, overridable by properties)
     */
    static TokenCredential create(Function<String, Optional<String>> env, Optional<String> clientId, HttpClient http) {
        Optional<String> federatedTokenFile = env.apply(FEDERATED_TOKEN_FILE);
        if (federatedTokenFile.isPresent()) {
            WorkloadIdentityCredentialBuilder builder = new WorkloadIdentityCredentialBuilder()
                    .tokenFilePath(federatedTokenFile.get())
                    .tenantId(env.apply(TENANT_ID).orElseThrow())
                    .clientId(clientId.or(() -> env.apply(CLIENT_ID)).orElseThrow())
                    .configuration(processEnvironment())
                    .httpClient(http);
            Optional<String> authority = env.apply(AUTHORITY_HOST);
            if (authority.isPresent()) {
                builder.authorityHost(authority.get());
                // MSAL's instance discovery asks a public Microsoft host about the authority: pointless for a
                // loopback authority (tests, sandbox), which must never lead to a non-loopback connection
                if (Loopback.url(authority.get())) {
                    builder.disableInstanceDiscovery();
                }
            }
            return builder.build();
        }
        ManagedIdentityCredentialBuilder builder =
                new ManagedIdentityCredentialBuilder().httpClient(http).configuration(processEnvironment());
        clientId.ifPresent(builder::clientId);
        return builder.build();
    }

    /**
     * The HTTP client every credential talks to Entra ID through, on the sidecar's own Vert.x. These are the options
     * azure-core's builder would choose by itself (its timeouts, its 256 KB header limit, the proxy from
     * {@code HTTPS_PROXY}/{@code HTTP_PROXY}/{@code NO_PROXY} when {@code java.net.useSystemProxies} is true, else
     * {@code https.proxyHost} and its kin) with two differences: the proxy is read at run time, not from the global
     * configuration a native image fixes at build time, and there is no keep-alive pool. A token is fetched once
     * per lifetime, hours apart, so a kept connection is never reused, while the pool's sweep would wake an idle
     * sidecar every second for it.
     */
    static HttpClient httpClient(Vertx vertx) {
        Map<String, String> properties = new HashMap<>();
        System.getProperties().stringPropertyNames().forEach(k -> properties.put(k, System.getProperty(k)));
        return httpClient(vertx, runTime(properties));
    }

    /** @param environment where the proxy settings are read: system properties and environment variables */
    static HttpClient httpClient(Vertx vertx, Configuration environment) {
        HttpClientOptions options = new HttpClientOptions()
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setConnectTimeout(10_000)
                .setReadIdleTimeout(60_000)
                .setWriteIdleTimeout(60_000)
                .setMaxHeaderSize(256 * 1024)
                .setKeepAlive(false)
                .setPoolCleanerPeriod(0);
        ProxyOptions proxy = ProxyOptions.fromConfiguration(environment, true);
        if (proxy != null) {
            io.vertx.core.net.ProxyOptions vertxProxy = new io.vertx.core.net.ProxyOptions();
            if (proxy.getAddress() != null) {
                vertxProxy
                        .setHost(proxy.getAddress().getHostName())
                        .setPort(proxy.getAddress().getPort());
            }
            if (proxy.getUsername() != null
                    && !proxy.getUsername().isEmpty()
                    && proxy.getPassword() != null
                    && !proxy.getPassword().isEmpty()) {
                vertxProxy.setUsername(proxy.getUsername()).setPassword(proxy.getPassword());
            }
            if (proxy.getType() != null) {
                vertxProxy.setType(ProxyType.valueOf(proxy.getType().name()));
            }
            if (proxy.getNonProxyHosts() != null && !proxy.getNonProxyHosts().isEmpty()) {
                // azure-core keeps NO_PROXY as a regular expression; Vert.x takes host names and "*.b" wildcards.
                // The same undoing as azure-core's own Vert.x builder, so both exempt the same hosts.
                String hosts =
                        NO_PROXY_ESCAPES.matcher(proxy.getNonProxyHosts()).replaceAll("");
                for (String host : hosts.replace(".*", "*").split("\\|")) {
                    options.addNonProxyHost(host);
                }
            }
            options.setProxyOptions(vertxProxy);
        }
        return new VertxHttpClientBuilder()
                .vertx(vertx)
                .httpClientOptions(options)
                .build();
    }

    /**
     * The process environment as it is now. azure-core's own native-image configuration initialises its global
     * {@code Configuration} at image build time, where it would keep the build machine's environment; every credential
     * aigate builds is given one read at run time instead, so the pod's variables (IDENTITY_ENDPOINT, AZURE_*) count.
     */
    static Configuration processEnvironment() {
        return runTime(Map.of());
    }

    /** The process environment as it is now, with these system properties. */
    private static Configuration runTime(Map<String, String> properties) {
        Map<String, String> variables = Map.copyOf(System.getenv());
        ConfigurationSource none = source -> Map.of();
        return new ConfigurationBuilder(none, source -> properties, source -> variables).build();
    }
}
