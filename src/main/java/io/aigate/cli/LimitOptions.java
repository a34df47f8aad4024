package io.aigate.cli;

import io.aigate.config.QuotaPeriod;
import io.aigate.subscription.TokenLimits;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** APIM's {@code llm-token-limit} attributes, per subscription; unset ones fall back to the sidecar's defaults. */
class LimitOptions {
    @Option(
            names = "--tokens-per-minute",
            paramLabel = "N",
            description = "Token rate (leaky bucket) shared by every aigate instance.")
    Long tokensPerMinute;

    @Option(names = "--token-quota", paramLabel = "N", description = "Tokens per --token-quota-period.")
    Long tokenQuota;

    @Option(
            names = "--token-quota-period",
            paramLabel = "PERIOD",
            description = "Hourly | Daily | Weekly | Monthly | Yearly (UTC windows).")
    String tokenQuotaPeriod;

    /** The limits these options make of {@code current}; refuses what cannot work. */
    TokenLimits limits(CommandLine.Model.CommandSpec spec, TokenLimits current) {
        if ((tokensPerMinute != null && tokensPerMinute <= 0) || (tokenQuota != null && tokenQuota <= 0)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--tokens-per-minute and --token-quota must be positive");
        }
        QuotaPeriod period;
        try {
            period = tokenQuotaPeriod == null ? current.tokenQuotaPeriod() : QuotaPeriod.parse(tokenQuotaPeriod);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--" + e.getMessage());
        }
        TokenLimits limits = new TokenLimits(
                tokensPerMinute != null ? tokensPerMinute : current.tokensPerMinute(),
                tokenQuota != null ? tokenQuota : current.tokenQuota(),
                period);
        if (limits.tokenQuota() != null && limits.tokenQuotaPeriod() == null) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--token-quota needs --token-quota-period (Hourly, Daily, Weekly, Monthly or Yearly)");
        }
        return limits;
    }

    boolean any() {
        return tokensPerMinute != null || tokenQuota != null || tokenQuotaPeriod != null;
    }
}
