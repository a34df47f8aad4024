package io.aigate.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.RequestContext;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Configs;
import io.aigate.testing.Requests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Before any signing key could be loaded a token cannot be judged: 503 (it may be fine), never 401. */
class KeysNotYetLoadedTest {

    @Test
    void aTokenArrivingBeforeAnyKeyIsLoadedGets503() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            String nowhere = "http://127.0.0.1:" + LocalRedis.freePort() + "/keys";
            AigateConfig config = Configs.aigate(Map.of(
                    "aigate.jwt.enabled",
                    "true",
                    "aigate.jwt.jwks-uri",
                    nowhere,
                    "aigate.jwt.issuers",
                    "https://issuer.example/",
                    "aigate.jwt.audiences",
                    "api://x",
                    "aigate.routes.all.deployments",
                    "*",
                    "aigate.routes.all.backend",
                    "aoai"));
            SigningKeys keys = new SigningKeys(config, vertx, Clock.systemUTC());
            ValidateJwt step = new ValidateJwt(config, keys, new SimpleMeterRegistry(), Clock.systemUTC());
            RequestContext ctx =
                    Requests.chat(HttpHeaders.headers().add("Authorization", "Bearer a.b.c"), "all", "aoai", "x");
            Outcome outcome = step.onRequestHeaders(ctx)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            assertFalse(keys.ready());
            assertEquals(503, outcome.refusal().status());
            assertEquals("5", outcome.refusal().headers().get("Retry-After"));
        } finally {
            vertx.close();
        }
    }
}
