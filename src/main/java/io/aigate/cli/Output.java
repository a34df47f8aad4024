package io.aigate.cli;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.TokenLimits;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.Locale;
import java.util.TreeSet;

/**
 * What a command prints: sentences for people, or with {@code --output json} one JSON document per run for scripts
 * (the sandbox, the tests, the benchmarks). Failures go to stderr either way; in JSON as {@code {"error", "exit"}}.
 */
final class Output {

    private final PrintWriter out;
    private final boolean json;

    Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    /** Prints the sentences, or the document. */
    void print(String text, Object document) {
        out.println(
                json
                        ? (document instanceof JsonObject o
                                ? o.encodePrettily()
                                : ((JsonArray) document).encodePrettily())
                        : text);
    }

    static String failure(String message, ExitCode code, boolean json) {
        return json
                ? new JsonObject().put("error", message).put("exit", code.code).encode()
                : message;
    }

    /** A subscription as scripts see it: never key material, only what the hashes are for. */
    static JsonObject subscription(Subscription s, Instant now) {
        return new JsonObject()
                .put("id", s.id())
                .put("name", s.name())
                .put("state", s.effectiveState(now).wire())
                .put("scope", s.scope().wire())
                .put(
                        "allowedClientApps",
                        new JsonArray(new java.util.ArrayList<>(new TreeSet<>(s.allowedClientApps()))))
                .put("expiresAt", s.expiresAt() == null ? null : s.expiresAt().toString())
                .put("createdAt", s.createdAt().toString())
                .put("updatedAt", s.updatedAt().toString())
                .put("primaryRotatedAt", s.primaryRotatedAt().toString())
                .put("secondaryRotatedAt", s.secondaryRotatedAt().toString())
                .put("limits", limits(s.limits()));
    }

    static JsonObject limits(TokenLimits limits) {
        return new JsonObject()
                .put("tokensPerMinute", limits.tokensPerMinute())
                .put("tokenQuota", limits.tokenQuota())
                .put(
                        "tokenQuotaPeriod",
                        limits.tokenQuotaPeriod() == null
                                ? null
                                : limits.tokenQuotaPeriod().wire());
    }

    static String describeLimits(TokenLimits limits) {
        if (limits.isEmpty()) {
            return "defaults";
        }
        return (limits.tokensPerMinute() == null ? "default rate" : limits.tokensPerMinute() + " tokens/minute") + ", "
                + (limits.tokenQuota() == null
                        ? "default quota"
                        : limits.tokenQuota() + " tokens "
                                + limits.tokenQuotaPeriod().wire().toLowerCase(Locale.ROOT));
    }

    static final String SHOWN_ONCE = "These keys are shown once and never again: store them in a secret now.";
}
