package io.aigate.gateway;

import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import org.jboss.logging.Logger;

/**
 * Puts aigate ahead of every other handler on the data port: nothing but the gateway answers there. The handler is
 * reached through its lazy proxy, so it is built at start-up after the configuration check, not when routes are laid.
 *
 * <p>On SIGTERM the port drains: from the first moment of shutdown (readiness turns false at the same time) a new
 * request gets 503 and is never forwarded, while requests and streams already in flight run to their end, for up to
 * {@code quarkus.shutdown.timeout}. Quarkus itself would go on serving new requests until it closes the server.
 */
@Singleton
public class DataPort {

    private static final Logger LOG = Logger.getLogger(DataPort.class);

    private volatile boolean draining;

    void register(@Observes Router router, GatewayHandler gateway) {
        router.route().order(Integer.MIN_VALUE).handler(rc -> {
            if (draining) {
                // the connection closes too, so the caller's next attempt opens one to a pod that is staying
                ApimError.send(rc.response(), RequestRefusal.SHUTTING_DOWN, true);
                return;
            }
            gateway.handle(rc.request());
        });
    }

    void drain(@Observes ShutdownDelayInitiatedEvent event) {
        draining = true;
        LOG.info("shutting down: new requests get 503; requests and streams in flight are let finish");
    }
}
