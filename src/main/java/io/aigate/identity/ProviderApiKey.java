package io.aigate.identity;

import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.Refreshed;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * A provider API key (OpenAI-compatible providers such as Mistral or Cohere). Read from an environment variable, or
 * from a mounted file that is re-read in the background so a rotated Kubernetes Secret takes effect without a restart.
 */
final class ProviderApiKey implements BackendCredential {

    private static final Logger LOG = Logger.getLogger(ProviderApiKey.class);

    private final String headerName;
    /** The header's value (the prefix and the key): fixed, or re-read from its file. */
    private final Supplier<String> headerValue;

    private ProviderApiKey(String headerName, Supplier<String> headerValue) {
        this.headerName = headerName;
        this.headerValue = headerValue;
    }

    static ProviderApiKey fromValue(String backend, String headerName, String prefix, String key) {
        String value = prefix + key;
        return new ProviderApiKey(headerName, () -> value);
    }

    /** Reads the file once now (start-up, off the event loop) and then every {@code recheckMillis} without blocking. */
    static ProviderApiKey fromFile(
            Vertx vertx, String backend, String headerName, String prefix, String file, long recheckMillis) {
        String first = prefix
                + vertx.fileSystem()
                        .readFileBlocking(file)
                        .toString(StandardCharsets.UTF_8)
                        .trim();
        Refreshed<String> value = new Refreshed<String>(
                        "backend " + backend + ": api-key-file " + file,
                        () -> vertx.fileSystem().readFile(file).map(buffer -> {
                            String key = buffer.toString(StandardCharsets.UTF_8).trim();
                            if (key.isEmpty()) {
                                throw new IllegalStateException("the file is empty");
                            }
                            return new Refreshed.Fetched<>(prefix + key, recheckMillis);
                        }),
                        Refreshed.onVertx(vertx),
                        new Backoff(Math.min(1000, recheckMillis), recheckMillis),
                        System::currentTimeMillis)
                .onChange((previous, current) -> LOG.infof("backend %s: api key reloaded from file", backend))
                .start(first, recheckMillis);
        return new ProviderApiKey(headerName, value::value);
    }

    @Override
    public Future<Outcome> authorize(MultiMap outboundHeaders) {
        outboundHeaders.set(headerName, headerValue.get());
        return Policy.PROCEED;
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
