package io.aigate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigate.config.AigateConfig;
import io.aigate.gateway.RequestRefusal;
import io.aigate.identity.CredentialRefusal;
import io.aigate.jwt.ClaimRules;
import io.aigate.jwt.JwtRefusal;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.Refusal;
import io.aigate.subscription.KeyRefusal;
import io.aigate.tokens.LimitRefusal;
import io.aigate.tokens.TokenEstimator;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jose4j.jwt.JwtClaims;
import org.junit.jupiter.api.Test;

/**
 * The "Answers to callers" table (docs/answers.md) is what users read: every refusal aigate can give must be a row
 * there (same status, same message, {@code Retry-After} when it sends one), and every row must be something aigate
 * still says.
 */
class AnswersTableTest {

    /** One row of the table: its status, whether it names Retry-After, and its messages (a word N stands for any number). */
    private record Row(int status, boolean retryAfter, List<Pattern> messages, String text) {}

    @Test
    void everyRefusalIsARowOfTheAnswersPageAndEveryRowARefusal() throws Exception {
        List<Row> rows = rows();
        assertTrue(rows.size() >= 20, "the table was not found: " + rows.size() + " rows");
        Map<Row, Integer> used = new HashMap<>();
        List<String> missing = new ArrayList<>();
        for (Refusal refusal : everyRefusal()) {
            Row row = rows.stream()
                    .filter(r -> r.status() == refusal.status()
                            && r.retryAfter() == refusal.headers().containsKey("Retry-After")
                            && r.messages().stream()
                                    .anyMatch(m -> m.matcher(refusal.message()).matches()))
                    .findFirst()
                    .orElse(null);
            if (row == null) {
                missing.add(refusal.status() + (refusal.headers().containsKey("Retry-After") ? " + Retry-After" : "")
                        + " " + refusal.message() + " (" + refusal.reason() + ")");
            } else {
                used.merge(row, 1, Integer::sum);
            }
            assertFalse(refusal.reason().isBlank());
            assertTrue(refusal.reason().matches("[a-z_]+"), refusal.reason());
        }
        assertEquals(List.of(), missing, "refusals the answers table of docs/answers.md does not list");
        List<String> stale =
                rows.stream().filter(r -> !used.containsKey(r)).map(Row::text).toList();
        assertEquals(List.of(), stale, "rows of the answers table of docs/answers.md that no refusal gives");
    }

    /** Every refusal of every layer, parameterised ones with sample values. */
    private static List<Refusal> everyRefusal() throws Exception {
        List<Refusal> all = new ArrayList<>(constants(RequestRefusal.class));
        all.add(RequestRefusal.tooLarge(1_048_576));
        for (JsonBody.Problem problem : JsonBody.Problem.values()) {
            // the two bounds on a parsed tree render as their own refusals (413, 503), not as unreadable bodies
            if (problem != JsonBody.Problem.PARSED_TOO_LARGE && problem != JsonBody.Problem.OVER_SHARED_BOUND) {
                all.add(RequestRefusal.unreadable(problem));
            }
        }
        all.add(RequestRefusal.parsedTooLarge(8_388_608));
        for (String field : List.of("max_tokens", "max_completion_tokens", "max_output_tokens", "n", "best_of")) {
            ObjectNode body = JsonNodeFactory.instance.objectNode().put(field, -1);
            all.add(RequestRefusal.unreadable(TokenEstimator.invalidNumbers(body)));
        }
        all.addAll(List.of(KeyRefusal.values()));
        all.addAll(constants(JwtRefusal.class));
        all.add(JwtRefusal.failed(JwtRefusal.Kind.MISSING, JwtRefusal.NOT_PRESENT, 401, null));
        all.add(JwtRefusal.failed(JwtRefusal.Kind.TOO_LARGE, JwtRefusal.TOO_LARGE, 401, null));
        all.add(JwtRefusal.failed(JwtRefusal.Kind.INVALID, JwtRefusal.EXPIRED, 401, null));
        JwtClaims claims = new JwtClaims();
        claims.setStringListClaim("roles", "Files.Read");
        claims.setClaim("azp", "other-app");
        all.add(JwtRefusal.claims(ClaimRules.check(
                List.of(new ClaimRules.Rule("roles", List.of("Chat.Use"), AigateConfig.Match.ALL, null)),
                Set.of(),
                claims)));
        all.add(JwtRefusal.claims(ClaimRules.check(List.of(), Set.of("my-app"), claims)));
        all.add(JwtRefusal.claims(ClaimRules.check(
                List.of(new ClaimRules.Rule("roles", List.of("Chat.Use"), AigateConfig.Match.ANY, null)),
                Set.of(),
                new JwtClaims())));
        for (LimitRefusal.Kind kind : LimitRefusal.Kind.values()) {
            all.add(new LimitRefusal(kind, 7, Map.of("Retry-After", "7")));
        }
        for (CredentialRefusal.Kind kind : CredentialRefusal.Kind.values()) {
            all.add(new CredentialRefusal(kind, 3));
        }
        all.add(new io.aigate.backends.PoolRefusal(true, 9));
        all.add(new io.aigate.backends.PoolRefusal(false, 8));
        return all;
    }

    private static <T extends Refusal> List<Refusal> constants(Class<T> type) throws IllegalAccessException {
        List<Refusal> found = new ArrayList<>();
        for (Field field : type.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && type.isAssignableFrom(field.getType())) {
                found.add((Refusal) field.get(null));
            }
        }
        assertFalse(found.isEmpty(), type.getSimpleName());
        return found;
    }

    private static List<Row> rows() throws IOException {
        String page = Files.readString(Path.of("docs/answers.md"));
        int start = page.indexOf("# Answers to callers");
        int next = page.indexOf("\n## ", start + 1);
        int end = next < 0 ? page.length() : next;
        List<Row> rows = new ArrayList<>();
        for (String line : page.substring(start, end).split("\n")) {
            Matcher row =
                    Pattern.compile("^\\| (\\d{3})([^|]*)\\|[^|]*\\|(.*)\\|$").matcher(line);
            if (!row.matches()) {
                continue;
            }
            List<Pattern> messages = new ArrayList<>();
            Matcher quoted = Pattern.compile("`([^`]+)`").matcher(row.group(3));
            while (quoted.find()) {
                messages.add(Pattern.compile(Pattern.quote(quoted.group(1)).replaceAll("\\bN\\b", "\\\\E\\\\d+\\\\Q")));
            }
            rows.add(new Row(Integer.parseInt(row.group(1)), row.group(2).contains("Retry-After"), messages, line));
        }
        return rows;
    }
}
