package io.aigate.identity;

import io.aigate.pipeline.Outcome;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import org.jboss.logging.Logger;

/**
 * A provider API key (OpenAI-compatible providers such as Mistral or Cohere). Read from an environment variable, or
 * from a mounted file that is re-read in the background so a rotated Kubernetes Secret takes effect without a restart.
 */
final class ProviderApiKey implements BackendCredential {

    private static final Logger LOG = Logger.getLogger(ProviderApiKey.class);
    private static final Future<Outcome> PROCEED = Future.succeededFuture(Outcome.proceed());

    private final String backend;
    private final String headerName;
    private final String prefix;
    private volatile String headerValue;

    private ProviderApiKey(String backend, String headerName, String prefix, String key) {
        this.backend = backend;
        this.headerName = headerName;
        this.prefix = prefix;
        this.headerValue = prefix + key;
    }

    static ProviderApiKey fromValue(String backend, String headerName, String prefix, String key) {
        return new ProviderApiKey(backend, headerName, prefix, key);
    }

    /** Reads the file once now (start-up, off the event loop) and then every {@code recheckMillis} without blocking. */
    static ProviderApiKey fromFile(
            Vertx vertx, String backend, String headerName, String prefix, String file, long recheckMillis) {
        String key = vertx.fileSystem()
                .readFileBlocking(file)
                .toString(StandardCharsets.UTF_8)
                .trim();
        ProviderApiKey credential = new ProviderApiKey(backend, headerName, prefix, key);
        vertx.setPeriodic(
                recheckMillis,
                id -> vertx.fileSystem()
                        .readFile(file)
                        .onSuccess(buffer -> credential.replace(
                                buffer.toString(StandardCharsets.UTF_8).trim()))
                        .onFailure(err -> LOG.warnf(
                                "backend %s: cannot re-read api-key-file %s (%s); keeping the last key",
                                backend, file, err.getClass().getSimpleName())));
        return credential;
    }

    private void replace(String key) {
        if (key.isEmpty()) {
            LOG.warnf("backend %s: api-key-file is empty; keeping the last key", backend);
            return;
        }
        String value = prefix + key;
        if (!value.equals(headerValue)) {
            headerValue = value;
            LOG.infof("backend %s: api key reloaded from file", backend);
        }
    }

    @Override
    public Future<Outcome> authorize(MultiMap outboundHeaders) {
        outboundHeaders.set(headerName, headerValue);
        return PROCEED;
    }

    @Override
    public boolean usable() {
        return true;
    }

    @Override
    public String state() {
        return "api-key";
    }
}
