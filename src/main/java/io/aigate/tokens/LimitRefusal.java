package io.aigate.tokens;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * {@code llm-token-limit}'s refusals, each with how long to wait. The headers carry the wait (under
 * {@code retry-after-header-name}) and whatever remaining-token headers the limit is configured to send.
 */
public record LimitRefusal(Kind kind, long waitSeconds, Map<String, String> headers) implements Refusal {

    public enum Kind {
        /** The counter's token bucket cannot take this request's reservation. */
        RATE(429, "token_limit", "Token limit is exceeded. Try again in %d seconds."),
        /** The counter's quota for its UTC window is spent. */
        QUOTA(403, "token_quota", "Token quota is exceeded. The quota renews in %d seconds."),
        /** Redis cannot be reached and {@code on-redis-unavailable=deny}. */
        UNAVAILABLE(
                503,
                "token_limit_unavailable",
                "Token limits cannot be checked right now. Try again in %d " + "seconds.");

        private final int status;
        private final String reason;
        private final String message;

        Kind(int status, String reason, String message) {
            this.status = status;
            this.reason = reason;
            this.message = message;
        }
    }

    public LimitRefusal {
        headers = Map.copyOf(headers);
    }

    @Override
    public int status() {
        return kind.status;
    }

    @Override
    public String message() {
        return kind.message.formatted(waitSeconds);
    }

    @Override
    public String reason() {
        return kind.reason;
    }

    @Override
    public String policy() {
        return "llm-token-limit";
    }
}
