package io.aigate.config;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;

/**
 * Traces are off unless an OTLP endpoint is configured: {@code quarkus.otel.sdk.disabled} reads {@code true} unless
 * {@code quarkus.otel.exporter.otlp.traces.endpoint} or {@code quarkus.otel.exporter.otlp.endpoint} is set (in a
 * file, the environment or a system property), or it is set itself. One setting turns tracing on, and a sidecar
 * without a collector starts no exporter at all. Registered in {@code META-INF/services}, as SmallRye asks.
 */
public class TracesNeedAnEndpoint implements ConfigSourceInterceptor {

    static final String SDK_DISABLED = "quarkus.otel.sdk.disabled";

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue value = context.proceed(name);
        if (!SDK_DISABLED.equals(name) || set(value)) {
            return value;
        }
        boolean endpoint = set(context.proceed("quarkus.otel.exporter.otlp.traces.endpoint"))
                || set(context.proceed("quarkus.otel.exporter.otlp.endpoint"));
        ConfigValue base =
                value != null ? value : ConfigValue.builder().withName(name).build();
        return base.withValue(endpoint ? "false" : "true");
    }

    /** Set by someone: a value from a real source, not an extension's default (those sources rank below zero). */
    private static boolean set(ConfigValue value) {
        return value != null
                && value.getValue() != null
                && !value.getValue().isBlank()
                && value.getConfigSourceOrdinal() > 0;
    }
}
