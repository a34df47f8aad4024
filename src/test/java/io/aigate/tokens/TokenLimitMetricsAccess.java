package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.micrometer.core.instrument.MeterRegistry;

/** Lets tests in other packages build the token limit's metrics (its constructor is for CDI). */
public final class TokenLimitMetricsAccess {

    private TokenLimitMetricsAccess() {}

    public static TokenMetrics.Limit create(MeterRegistry registry, AigateConfig config) {
        return new TokenMetrics.Limit(registry, config.tokenLimit());
    }
}
