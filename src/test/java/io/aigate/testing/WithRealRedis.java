package io.aigate.testing;

import io.aigate.sandbox.LocalRedis;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class of its own real redis-server (on a free port) and Vert.x instance, for its whole run. */
public abstract class WithRealRedis {

    protected static LocalRedis redis;
    protected static Vertx vertx;

    @BeforeAll
    static void startRealRedis() {
        redis = new LocalRedis(LocalRedis.freePort()).start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopRealRedis() {
        vertx.close();
        redis.close();
    }
}
