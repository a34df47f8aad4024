package io.aigate.config;

import java.net.URI;
import java.util.Locale;

/**
 * A backend's {@code url}, read once the one way every part of aigate uses it: where to connect, what to prepend to
 * a path, what to call it in metrics and spans, and the name the fleet shares rests under. Checked at start-up by
 * {@link ConfigCheck}.
 *
 * @param host     lower case
 * @param port     the explicit port, else the scheme's
 * @param basePath the URL's path without trailing slashes ("" for none)
 * @param fleetId  {@code scheme://host[:explicit port]basePath}: configurations that name one resource differently
 *                 still agree on it
 */
public record BackendUrl(boolean ssl, String host, int port, String basePath, String fleetId) {

    public static BackendUrl parse(String url) {
        URI uri = URI.create(url);
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        boolean ssl = scheme.equals("https");
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        int port = uri.getPort() > 0 ? uri.getPort() : ssl ? 443 : 80;
        String fleetId = scheme + "://" + host + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + path;
        return new BackendUrl(ssl, host, port, path, fleetId);
    }
}
