package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.aigate.config.AigateConfig;
import io.aigate.testing.Configs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Exact names first, then *; and a pod limited to some routes (aigate.io/routes) cannot reach the others. */
class RouteTableTest {

    static Map<String, AigateConfig.Route> routes() {
        return Configs.aigate(Map.of(
                        "aigate.routes.chat.deployments",
                        "gpt-4o,gpt-4o-mini",
                        "aigate.routes.chat.backend",
                        "aoai",
                        "aigate.routes.gpt4.deployments",
                        "gpt-4",
                        "aigate.routes.gpt4.backend",
                        "aoai",
                        "aigate.routes.rest.deployments",
                        "*",
                        "aigate.routes.rest.backend",
                        "other"))
                .routes();
    }

    @Test
    void exactNamesWinThenTheStarRoute() {
        RouteTable all = new RouteTable(routes(), null);
        assertEquals("chat", all.match("gpt-4o").name());
        assertEquals("gpt4", all.match("gpt-4").name());
        assertEquals("rest", all.match("anything").name());
        assertEquals("rest", all.match(null).name());
    }

    @Test
    void enabledRoutesHideTheOthersEntirely() {
        RouteTable some = new RouteTable(routes(), List.of("chat"));
        assertEquals("chat", some.match("gpt-4o").name());
        assertNull(some.match("gpt-4"), "a route the pod was not given is no route at all");
        assertNull(some.match("anything"), "nor does * catch it");
    }
}
