package io.aigate.subscription;

import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * Layer 1's refusals, in APIM's words. Unknown, inactive, expired and out-of-scope keys share one answer, so the
 * answer is no oracle for which keys exist; only the reason (log and metrics) tells them apart.
 */
public enum KeyRefusal implements Refusal {
    MISSING(
            401,
            "Access denied due to missing subscription key. Make sure to include subscription key when making "
                    + "requests to an API."),
    UNKNOWN(401, Text.INVALID),
    INACTIVE(401, Text.INVALID),
    EXPIRED(401, Text.INVALID),
    OUT_OF_SCOPE(401, Text.INVALID),
    STORE_UNAVAILABLE(
            503, "Subscription keys cannot be checked right now. Try again in 5 seconds.", Map.of("Retry-After", "5"));

    private static final class Text {
        static final String INVALID = "Access denied due to invalid subscription key. Make sure to provide a valid "
                + "key for an active subscription.";
    }

    private final int status;
    private final String message;
    private final Map<String, String> headers;
    private final String result = name().toLowerCase(java.util.Locale.ROOT);

    @Override
    public String policy() {
        return "validate-subscription-key";
    }

    KeyRefusal(int status, String message) {
        this(status, message, Map.of());
    }

    KeyRefusal(int status, String message, Map<String, String> headers) {
        this.status = status;
        this.message = message;
        this.headers = headers;
    }

    @Override
    public int status() {
        return status;
    }

    @Override
    public String message() {
        return message;
    }

    @Override
    public Map<String, String> headers() {
        return headers;
    }

    @Override
    public String reason() {
        return "key_" + result;
    }

    /** The {@code result} tag of {@code aigate_subscription_decisions_total}. */
    String result() {
        return result;
    }
}
