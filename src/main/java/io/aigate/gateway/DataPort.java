package io.aigate.gateway;

import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;

/**
 * Puts aigate ahead of every other handler on the data port: nothing but the gateway answers there. The handler is
 * reached through its lazy proxy, so it is built at start-up after the configuration check, not when routes are laid.
 */
@Singleton
public class DataPort {

    void register(@Observes Router router, GatewayHandler gateway) {
        router.route().order(Integer.MIN_VALUE).handler(rc -> gateway.handle(rc.request()));
    }
}
