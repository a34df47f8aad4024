package io.aigate.config;

import java.net.URI;

/**
 * A Key Vault secret identifier ({@code api-key-secret}), read once the one way the start-up check and the credential
 * use it: the vault's URL, the secret's name, and its version (null: the latest).
 */
public record SecretId(String vault, String name, String version) {
    /** @throws IllegalArgumentException with the reason, for the start-up check */
    public static SecretId parse(String text) {
        URI uri;
        try {
            uri = URI.create(text.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not a URL");
        }
        String[] path = uri.getPath() == null ? new String[0] : uri.getPath().split("/");
        if (!"https".equalsIgnoreCase(uri.getScheme())
                || uri.getHost() == null
                || uri.getRawQuery() != null
                || path.length < 3
                || path.length > 4
                || !path[0].isEmpty()
                || !"secrets".equals(path[1])
                || path[2].isEmpty()) {
            throw new IllegalArgumentException("must be a secret identifier, https://<vault>.vault.azure.net/"
                    + "secrets/<name> (optionally /<version>)");
        }
        String vault = "https://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        return new SecretId(vault, path[2], path.length == 4 ? path[3] : null);
    }
}
