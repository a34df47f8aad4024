package io.aigate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layering the README states, read from the sources: a package may name (import, or write out in full) only
 * packages of the layers below its own. So there is no cycle, and a newcomer can read the packages bottom-up.
 */
class PackageGraphTest {

    /** Bottom first; the packages of one layer do not know each other. */
    static final List<Set<String>> LAYERS = List.of(
            Set.of("pipeline"), // the step contract and the one reading of each input
            Set.of("config"), // what the operator wrote, read once
            Set.of("identity"), // Entra tokens and API keys
            Set.of("redis", "inject"), // talking to Redis (it logs in with an identity); the webhook
            Set.of("backends", "jwt", "subscription"), // the layers and the pools
            Set.of("tokens"), // the AI policies (a subscription's limits travel with its caller)
            Set.of("gateway", "cli")); // what composes them

    private static final Pattern NAMED = Pattern.compile("\\bio\\.aigate\\.([a-z]+)\\.[A-Z]");

    static Map<String, Set<String>> graph() throws IOException {
        Map<String, Set<String>> uses = new TreeMap<>();
        Path root = Path.of("src/main/java/io/aigate");
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String own = root.relativize(file.getParent()).toString();
                Set<String> named = uses.computeIfAbsent(own, k -> new TreeSet<>());
                Matcher m = NAMED.matcher(Files.readString(file));
                while (m.find()) {
                    if (!m.group(1).equals(own)) {
                        named.add(m.group(1));
                    }
                }
            }
        }
        return uses;
    }

    static int layer(String pkg) {
        for (int i = 0; i < LAYERS.size(); i++) {
            if (LAYERS.get(i).contains(pkg)) {
                return i;
            }
        }
        return -1;
    }

    static List<String> violations(Map<String, Set<String>> graph) {
        List<String> wrong = new ArrayList<>();
        graph.forEach((pkg, named) -> {
            if (layer(pkg) < 0) {
                wrong.add(pkg + " has no layer: add it to PackageGraphTest.LAYERS and the README's package table");
            }
            for (String other : named) {
                if (layer(other) >= layer(pkg)) {
                    wrong.add(pkg + " names " + other + ", which is not below it");
                }
            }
        });
        return wrong;
    }

    @Test
    void everyPackageHasALayerAndNamesOnlyLayersBelowIt() throws IOException {
        assertEquals(List.of(), violations(graph()), "the package graph the README states");
    }

    /** The rule refuses what the code had before: a cycle, a sideways arrow, a package nobody placed. */
    @Test
    void upwardSidewaysAndUnplacedArrowsAreFound() {
        assertEquals(
                List.of(
                        "config names tokens, which is not below it",
                        "jwt names subscription, which is not below it",
                        "realtime has no layer: add it to PackageGraphTest.LAYERS and the README's package table"),
                violations(new TreeMap<>(Map.of(
                        "config", Set.of("tokens"),
                        "tokens", Set.of("config"),
                        "jwt", Set.of("subscription"),
                        "realtime", Set.of()))));
    }
}
