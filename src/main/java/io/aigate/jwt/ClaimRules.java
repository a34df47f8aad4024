package io.aigate.jwt;

import io.aigate.config.AigateConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.jose4j.jwt.JwtClaims;

/**
 * APIM's {@code required-claims}: each configured claim must be present and carry all (or any) of its values. A string
 * claim is split by its separator ({@code scp}, Entra's one space-separated string, splits on space); an array claim
 * ({@code roles}) is taken as it is. Failures are 403: the token is valid, it just does not allow this.
 */
public final class ClaimRules {

    public record Rule(String claim, List<String> values, AigateConfig.Match match, String separator) {
        public Rule {
            values = List.copyOf(values);
        }
    }

    /** Null when allowed; otherwise the 403 message. */
    public static String check(List<Rule> rules, Set<String> allowedClientApps, JwtClaims claims) {
        List<String> missing = new ArrayList<>();
        for (Rule rule : rules) {
            if (!claims.hasClaim(rule.claim())) {
                missing.add(rule.claim());
            }
        }
        String app = stringClaim(claims, "azp");
        if (app == null) {
            app = stringClaim(claims, "appid");
        }
        if (!allowedClientApps.isEmpty() && app == null) {
            missing.add("azp");
        }
        if (!missing.isEmpty()) {
            return "JWT token is missing the following claims: " + String.join(", ", missing) + ". Access denied.";
        }
        for (Rule rule : rules) {
            List<String> present = values(claims.getClaimValue(rule.claim()), rule.separator());
            boolean ok = rule.match() == AigateConfig.Match.ALL
                    ? present.containsAll(rule.values())
                    : rule.values().stream().anyMatch(present::contains);
            if (!ok) {
                return notAllowed(
                        rule.claim(), String.join(rule.separator() == null ? "," : rule.separator(), present));
            }
        }
        if (!allowedClientApps.isEmpty() && !allowedClientApps.contains(app)) {
            return notAllowed(claims.hasClaim("azp") ? "azp" : "appid", app);
        }
        return null;
    }

    static Rule rule(String claim, AigateConfig.RequiredClaim config) {
        String separator = config.separator().orElse(claim.equals("scp") ? " " : null);
        return new Rule(claim, List.copyOf(config.values()), config.match(), separator);
    }

    private static String notAllowed(String claim, String value) {
        return "Claim " + claim + " value of " + printable(value) + " is not allowed. Access denied.";
    }

    private static List<String> values(Object value, String separator) {
        if (value instanceof Collection<?> many) {
            return many.stream().map(String::valueOf).toList();
        }
        if (value == null) {
            return List.of();
        }
        String text = String.valueOf(value);
        return separator == null
                ? List.of(text)
                : Arrays.stream(text.split(java.util.regex.Pattern.quote(separator)))
                        .filter(s -> !s.isEmpty())
                        .toList();
    }

    private static String stringClaim(JwtClaims claims, String name) {
        Object value = claims.getClaimValue(name);
        return value instanceof String s ? s : null;
    }

    /** Claim values are the caller's words: only a short, plain form goes back. */
    private static String printable(String value) {
        String plain = value.replaceAll("[^\\x20-\\x7e]", "?");
        return plain.length() > 100 ? plain.substring(0, 100) + "…" : plain;
    }
}
