package io.aigate.tokens;

/**
 * Token limits a subscription carries (set with {@code aigate keys limits}); a null field falls back to the configured
 * default. Lives here because layer 1 reads it from the subscription and the token limit enforces it.
 */
public record TokenLimits(Long tokensPerMinute, Long tokenQuota, QuotaPeriod tokenQuotaPeriod) {

    public static final TokenLimits NONE = new TokenLimits(null, null, null);

    public boolean isEmpty() {
        return tokensPerMinute == null && tokenQuota == null && tokenQuotaPeriod == null;
    }
}
