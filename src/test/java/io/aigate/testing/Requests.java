package io.aigate.testing;

import io.aigate.pipeline.RequestContext;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;

/** Request contexts as the gateway builds them, for tests that run one step alone. */
public final class Requests {

    private Requests() {}

    /** A POST chat completion to {@code deployment} on {@code route}, with the caller's {@code headers}. */
    public static RequestContext chat(MultiMap headers, String route, String backend, String deployment) {
        RequestContext ctx = new RequestContext(
                new RequestContext.Inbound(
                        "POST",
                        "/openai/deployments/" + deployment + "/chat/completions",
                        "chat/completions",
                        true,
                        headers,
                        null),
                null,
                HttpHeaders.headers());
        ctx.route(new RequestContext.Route(route, backend, deployment));
        return ctx;
    }
}
