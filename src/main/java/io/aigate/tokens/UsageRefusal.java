package io.aigate.tokens;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * {@code llm-emit-token-metric}'s refusal: a streamed request whose stream settings aigate cannot read one way only, or
 * cannot ask for usage in. Sent on, its answer would be charged on an estimate the caller chose to cause.
 *
 * @param message a fixed text naming the field, never the caller's value
 */
public record UsageRefusal(String message) implements Refusal {

    @Override
    public int status() {
        return 400;
    }

    @Override
    public Map<String, String> headers() {
        return Map.of();
    }

    @Override
    public String reason() {
        return "stream_options_unreadable";
    }

    @Override
    public String policy() {
        return "llm-emit-token-metric";
    }
}
