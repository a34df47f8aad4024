package io.aigate.subscription;

import io.aigate.config.QuotaPeriod;
import io.aigate.pipeline.RequestContext;

/**
 * Token limits a subscription carries (set with {@code aigate keys limits}); a null field falls back to the configured
 * default. They travel with the caller: layer 1 puts them on the request ({@link #PART}), and the token limit, a layer
 * above, reads them there, so this package knows nothing of how they are enforced.
 */
public record TokenLimits(Long tokensPerMinute, Long tokenQuota, QuotaPeriod tokenQuotaPeriod) {

    public static final TokenLimits NONE = new TokenLimits(null, null, null);

    /** The caller's subscription's own limits: written by validate-subscription-key, read by llm-token-limit. */
    public static final RequestContext.Part<TokenLimits> PART = RequestContext.Part.declare("subscription-limits");

    public boolean isEmpty() {
        return tokensPerMinute == null && tokenQuota == null && tokenQuotaPeriod == null;
    }
}
