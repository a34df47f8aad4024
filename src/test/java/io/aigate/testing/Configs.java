package io.aigate.testing;

import io.aigate.config.AigateConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;

/** aigate's configuration as the running sidecar maps it, from the given keys over the defaults. */
public final class Configs {

    private Configs() {}

    public static AigateConfig aigate(Map<String, String> values) {
        return new SmallRyeConfigBuilder()
                .addDiscoveredConverters()
                .withMapping(AigateConfig.class)
                .withDefaultValues(values)
                .build()
                .getConfigMapping(AigateConfig.class);
    }
}
