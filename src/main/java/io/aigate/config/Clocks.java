package io.aigate.config;

import io.quarkus.arc.DefaultBean;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/**
 * The one source of wall time for decisions that expire: a subscription's expiry, how long a looked-up key may be
 * trusted while Redis is away, how long a verified token stays verified, the signing keys' refetch cooldown. Tests
 * replace it with a clock they move, so they let time pass without waiting for it.
 */
@Singleton
public class Clocks {

    @Produces
    @Singleton
    @DefaultBean
    Clock clock() {
        return Clock.systemUTC();
    }
}
