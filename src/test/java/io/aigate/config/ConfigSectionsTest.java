package io.aigate.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A class asks for the section of the configuration it reads ({@link ConfigSections}); only a class that composes
 * sections, or reads the routes or backends (which name every other section), takes the whole {@link AigateConfig}.
 * Adding one to this list means saying why here.
 */
class ConfigSectionsTest {

    static final Map<String, String> COMPOSERS = Map.ofEntries(
            Map.entry("config/ConfigCheck", "checks every section against the others"),
            Map.entry("config/ConfigSections", "hands out the sections"),
            Map.entry("gateway/GatewayHandler", "routes, request bounds, and the credential headers it drops"),
            Map.entry("gateway/RetryRules", "each route's retry"),
            Map.entry("gateway/ValidateBodyFeatures", "each route's granted features"),
            Map.entry("gateway/BackendClients", "each backend's connection settings"),
            Map.entry("backends/BackendPools", "backends and pools together"),
            Map.entry("backends/FleetRest", "which backends share a rest, from backends and pools"),
            Map.entry("identity/BackendCredentials", "each backend's credential, with the identity timings"),
            Map.entry("jwt/ValidateJwt", "the jwt section and each route's claims"),
            Map.entry("jwt/SigningKeys", "the jwt section, and whether any served route validates a token"),
            Map.entry("jwt/SigningKeysHealth", "whether any served route validates a token"),
            Map.entry("subscription/ValidateSubscriptionKey", "the subscription-key section and the products"),
            Map.entry("tokens/GenAiMetrics", "backends and routes, for the GenAI labels"),
            Map.entry("tokens/LlmEmitTokenMetric", "the tokens section, backends and pools"),
            Map.entry("tokens/TokenBudget", "the token limit and the Redis timeout of the key section"),
            Map.entry("tokens/TokenMetrics", "a constructor for tests that builds its GenAI labels alike"));

    /** A parameter, field or local of the whole type, or the whole type looked up or wrapped (Instance, class). */
    private static final Pattern WHOLE =
            Pattern.compile("\\bAigateConfig\\s+\\w+\\s*[,);=]|<AigateConfig>|\\bAigateConfig\\.class\\b");

    @Test
    void onlyComposersTakeTheWholeConfiguration() throws IOException {
        Path root = Path.of("src/main/java/io/aigate");
        TreeSet<String> takers = new TreeSet<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (WHOLE.matcher(Files.readString(file)).find()) {
                    takers.add(root.relativize(file).toString().replace(".java", ""));
                }
            }
        }
        assertEquals(new TreeSet<>(COMPOSERS.keySet()), takers, "take the section instead (ConfigSections)");
        assertEquals(COMPOSERS.size(), new TreeMap<>(COMPOSERS).size());
    }
}
