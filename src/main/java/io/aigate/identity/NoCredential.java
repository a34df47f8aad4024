package io.aigate.identity;

import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;

/** For backends that need no credential (a local model server, the sandbox). */
final class NoCredential implements BackendCredential {

    @Override
    public Future<Outcome> authorize(MultiMap outboundHeaders) {
        return Policy.PROCEED;
    }

    @Override
    public boolean usable() {
        return true;
    }

    @Override
    public String state() {
        return "none";
    }
}
