package io.aigate.identity;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.util.Configuration;
import com.azure.core.util.ConfigurationBuilder;
import com.azure.core.util.ConfigurationSource;
import com.azure.identity.ManagedIdentityCredentialBuilder;
import com.azure.identity.WorkloadIdentityCredentialBuilder;
import io.aigate.config.Loopback;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

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
     * The process environment as it is now. azure-core's own native-image configuration initialises its global
     * {@code Configuration} at image build time, where it would keep the build machine's environment; every credential
     * aigate builds is given one read at run time instead, so the pod's variables (IDENTITY_ENDPOINT, AZURE_*) count.
     */
    static Configuration processEnvironment() {
        Map<String, String> variables = Map.copyOf(System.getenv());
        ConfigurationSource none = source -> Map.of();
        return new ConfigurationBuilder(none, none, source -> variables).build();
    }
}
