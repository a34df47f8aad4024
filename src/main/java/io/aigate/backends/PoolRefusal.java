package io.aigate.backends;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * Every backend of the route is resting: the caller is told when the first comes back, and no backend is called. 429
 * when that one rests because it was throttled (the caller should slow down), 503 when it failed.
 */
public record PoolRefusal(boolean throttled, long waitSeconds) implements Refusal {

    @Override
    public int status() {
        return throttled ? 429 : 503;
    }

    @Override
    public String message() {
        return (throttled
                        ? "Every backend of this route is over its rate limit. Try again in %d seconds."
                        : "Every backend of this route is unavailable. Try again in %d seconds.")
                .formatted(waitSeconds);
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Retry-After", Long.toString(waitSeconds));
    }

    @Override
    public String reason() {
        return throttled ? "backends_throttled" : "backends_unavailable";
    }

    @Override
    public String policy() {
        return "set-backend-service";
    }
}
