package io.aigate.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.LocalRedis;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged sidecar ({@code target/quarkus-app}) as its own process, run with the JVM flags {@code Dockerfile.jvm}
 * ships (read from that file, so the two cannot drift apart): the heap, stack and direct-memory limits a pod has. It
 * runs on the image's JDK where this machine has one ({@link ImageJava}), else on the test's own.
 */
public final class PackagedAigate implements AutoCloseable {

    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private final Process process;
    private final Path log;
    private final int port;
    private final int management;

    private PackagedAigate(Process process, Path log, int port, int management) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.management = management;
    }

    /**
     * The flags of {@code JAVA_OPTS} in {@code Dockerfile.jvm}. Not {@code JAVA_OPTS_APPEND}: the image's run-java.sh
     * puts {@code -XX:+UseParallelGC} in front of it, and beside the shipped collector the JVM would not start.
     */
    public static List<String> shippedJvmFlags() throws IOException {
        String dockerfile = Files.readString(Path.of("Dockerfile.jvm"));
        assertFalse(dockerfile.contains("JAVA_OPTS_APPEND="), "Dockerfile.jvm sets JAVA_OPTS, never JAVA_OPTS_APPEND");
        Matcher m = Pattern.compile("\\sJAVA_OPTS=\"([^\"]+)\"").matcher(dockerfile);
        assertTrue(m.find(), "Dockerfile.jvm sets JAVA_OPTS");
        return Arrays.asList(m.group(1).trim().split("\\s+"));
    }

    /**
     * Starts it against a real Redis and the fake Azure OpenAI (no backend credential), with {@code more} on top, and
     * waits until it is ready.
     */
    public static PackagedAigate againstFakes(String redisUrl, String openAiUrl, Map<String, String> more)
            throws Exception {
        return start(fakesEnv(redisUrl, openAiUrl, more));
    }

    private static Map<String, String> fakesEnv(String redisUrl, String openAiUrl, Map<String, String> more) {
        Map<String, String> env = new java.util.HashMap<>(Map.of(
                "AIGATE_REDIS_URL", redisUrl,
                "AZURE_OPENAI_BACKEND_URL", openAiUrl,
                "AIGATE_BACKENDS_AOAI_CREDENTIAL", "none"));
        env.putAll(more);
        return env;
    }

    /** Starts it with {@code env} on top of free ports, and waits until it is ready. */
    public static PackagedAigate start(Map<String, String> env) throws Exception {
        PackagedAigate aigate = launch(env);
        Await.until("aigate ready", Duration.ofSeconds(60), () -> {
            assertTrue(aigate.process.isAlive(), "aigate died at start: " + aigate.output());
            return aigate.status(aigate.managementUrl("/q/health/ready")) == 200;
        });
        return aigate;
    }

    /**
     * Starts it against the fakes with a configuration it must refuse: it must exit by itself within 60 s, not
     * serve; what it printed is returned.
     */
    public static String refusedAgainstFakes(String redisUrl, String openAiUrl, Map<String, String> more)
            throws Exception {
        PackagedAigate aigate = launch(fakesEnv(redisUrl, openAiUrl, more));
        try {
            assertTrue(
                    aigate.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS),
                    "aigate did not stop on a configuration it cannot work with: " + aigate.output());
            assertTrue(aigate.process.exitValue() != 0, "a refused start exits non-zero: " + aigate.output());
            return aigate.output();
        } finally {
            aigate.close();
        }
    }

    private static PackagedAigate launch(Map<String, String> env) throws Exception {
        int port = LocalRedis.freePort();
        int management = LocalRedis.freePort();
        Path log = Files.createTempFile("aigate-it", ".log");
        List<String> command = new ArrayList<>();
        command.add(ImageJava.orTestJvm().toString());
        command.addAll(shippedJvmFlags());
        command.add("-jar");
        command.add(System.getProperty("aigate.test.jar"));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        // nothing of the machine's own environment may point it elsewhere: a CI runner's workload identity, an Azure
        // authority, a proxy, an OTLP endpoint or a Quarkus profile would send it off loopback or change what is tested
        builder.environment().keySet().removeIf(PackagedAigate::pointsElsewhere);
        builder.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
        builder.environment().put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
        builder.environment().put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
        builder.environment().put("AIGATE_IDENTITY_ALLOW_IMDS", "false");
        builder.environment().putAll(env);
        return new PackagedAigate(builder.start(), log, port, management);
    }

    static boolean pointsElsewhere(String variable) {
        String name = variable.toUpperCase(java.util.Locale.ROOT);
        return name.startsWith("AZURE_")
                || name.startsWith("IDENTITY_")
                || name.startsWith("MSI_")
                || name.startsWith("OTEL_")
                || name.startsWith("QUARKUS_")
                || name.startsWith("AIGATE_")
                || name.endsWith("_PROXY")
                || name.equals("JAVA_TOOL_OPTIONS")
                || name.equals("JDK_JAVA_OPTIONS");
    }

    public Process process() {
        return process;
    }

    public int port() {
        return port;
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    public String managementUrl(String path) {
        return "http://127.0.0.1:" + management + path;
    }

    public String output() throws IOException {
        return Files.readString(log);
    }

    /** The status of a GET, -1 when nobody listens, -2 on any other failure. */
    public int status(String url) {
        try {
            return HTTP.send(
                            HttpRequest.newBuilder(URI.create(url))
                                    .timeout(Duration.ofSeconds(2))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (ConnectException e) {
            return -1;
        } catch (Exception e) {
            return -2;
        }
    }

    /** Resident memory of the process in kilobytes, from /proc (Linux). */
    public long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return -1;
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
