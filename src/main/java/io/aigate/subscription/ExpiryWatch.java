package io.aigate.subscription;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;

/**
 * Keys that will expire soon are the outage nobody sees coming: this keeps {@code aigate_subscriptions_expiring} (active
 * subscriptions expiring within the warning window, or already past it) current for an alert, at the cost of one
 * ZCOUNT per instance per interval, however many subscriptions there are.
 */
@Startup
@Singleton
public class ExpiryWatch {

    private volatile double expiring = Double.NaN;
    private final SubscriptionLookup lookup;
    private final Duration window;
    private final Clock clock;

    ExpiryWatch(
            AigateConfig.SubscriptionKey keys,
            SubscriptionLookup lookup,
            Vertx vertx,
            MeterRegistry registry,
            Clock clock) {
        Duration window = keys.expiryWarning();
        SubscriptionMetrics.expiring(registry, window, this, w -> w.expiring);
        this.lookup = lookup;
        this.window = window;
        this.clock = clock;
        vertx.setTimer(1, id -> check());
        vertx.setPeriodic(keys.expiryCheckInterval().toMillis(), id -> check());
    }

    /** Counts now; the gauge shows the count once the returned future completes. */
    Future<Long> check() {
        return lookup.store().countExpiringBefore(clock.instant().plus(window)).onSuccess(count -> expiring = count);
    }
}
