package io.aigate.clients;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The official {@code openai} SDK's realtime client ({@code OpenAIRealtimeWS}, Node; the Java SDK has none) through
 * the sidecar, unchanged: the v1 client with the subscription key as its API key ({@code Authorization: Bearer}) and
 * the Azure client ({@code api-key}), each opening a session, asking for a response and reading it to its
 * {@code response.done}. The SDK is pinned in {@code src/test/node/realtime/package-lock.json}; {@code .ci/run}
 * installs Node and runs {@code npm ci} there. Skipped only where there is no {@code node} at all.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class OpenAiRealtimeSdkTest extends AigateTest {

    static final Path PROJECT = Path.of("src/test/node/realtime");

    @Test
    void theSdksRealtimeClientsWorkThroughTheSidecar() throws Exception {
        Assumptions.assumeTrue(
                onPath("node"),
                "node is not installed: the openai SDK's realtime client is not checked (.ci/run installs it)");
        assertTrue(
                Files.isDirectory(PROJECT.resolve("node_modules/openai")),
                "the pinned openai SDK is not installed: run `npm ci` in " + PROJECT + " (.ci/run does)");
        ProcessBuilder run = new ProcessBuilder("node", "realtime.mjs").directory(PROJECT.toFile());
        run.environment().put("AIGATE_URL", "http://127.0.0.1:" + base.getPort());
        run.environment().put("AIGATE_KEY", CloudDoubles.key);
        run.environment().put("DEPLOYMENT", "gpt-realtime");
        run.redirectErrorStream(true);
        Process process = run.start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "node did not finish in 60 s");
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(2, lines.size(), out);
        for (String line : lines) {
            JsonObject session = new JsonObject(line);
            assertEquals(String.join("", FakeAzureOpenAi.WORDS), session.getString("text"), line);
            assertEquals(
                    FakeAzureOpenAi.RT_TOTAL, session.getJsonObject("usage").getInteger("total_tokens"), line);
        }
        // the Azure client's key travels as api-key, the v1 client's as Authorization: neither reaches the backend
        for (int i = 0; i < 2; i++) {
            FakeAzureOpenAi.Received handshake = CloudDoubles.openAi.next(5);
            assertEquals("/openai/v1/realtime", handshake.path());
            assertTrue(handshake.header("api-key") == null, "the caller's api-key reached the backend");
            assertTrue(
                    handshake.header("authorization") == null
                            || !handshake.header("authorization").contains(CloudDoubles.key),
                    "the caller's key reached the backend");
        }
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
