package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import io.aigate.config.Cidr;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.quarkus.vertx.http.ManagementInterface;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.List;

/**
 * The management port listens on every interface, since the kubelet probes health from the node; but its
 * {@code /q/metrics} names subscription ids (token counts, limits), which no other pod may learn. Only the sources in
 * {@code aigate.management.allowed-sources} (by default the pod itself) read more than {@code /q/health}; anyone else
 * gets a 403, judged by the TCP peer's address (the management port trusts no forwarded-for header).
 */
@Singleton
public class ManagementAccess {

    static final RequestRefusal NOT_ALLOWED = new RequestRefusal(
            403,
            "Only /q/health is served to this address; aigate.management.allowed-sources lists who may read the rest.",
            "management_source",
            java.util.Map.of());

    private final List<IpSubnetFilterRule> allowed;

    ManagementAccess(AigateConfig.Management management) {
        this.allowed = management.allowedSources().stream().map(Cidr::parse).toList();
    }

    void guard(@Observes ManagementInterface management) {
        management.router().route().order(Integer.MIN_VALUE).handler(this::check);
    }

    private void check(RoutingContext ctx) {
        if (allowed(ctx.request().remoteAddress(), ctx.normalizedPath())) {
            ctx.next();
        } else {
            ApimError.send(ctx.response(), NOT_ALLOWED, false);
        }
    }

    /** Health for everyone; the rest for allowed sources only. */
    boolean allowed(SocketAddress peer, String path) {
        if (path.equals("/q/health") || path.startsWith("/q/health/")) {
            return true;
        }
        return peer != null && peer.hostAddress() != null && Cidr.contains(allowed, peer.hostAddress());
    }
}
