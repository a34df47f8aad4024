package io.aigate.identity;

import io.aigate.pipeline.Outcome;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;

/** How aigate proves itself to one backend. Called on the event loop: implementations never block. */
public interface BackendCredential {

    /** Sets the backend credential on the outbound headers, or refuses (503 when no valid credential can be had). */
    Future<Outcome> authorize(MultiMap outboundHeaders);

    /** Whether a request could be authorized right now; feeds readiness. */
    boolean usable();

    /** A short state for health details and logs; never contains a credential. */
    String state();
}
