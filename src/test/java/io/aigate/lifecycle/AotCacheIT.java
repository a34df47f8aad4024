package io.aigate.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.ImageJava;
import io.aigate.testing.PackagedAigate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The AOT cache Dockerfile.jvm builds: its training script, run here as the image build runs it (the shipped flags,
 * nothing to talk to; this machine's JDK 25 stands in for the image's), must start aigate, stop it, and write a cache
 * that the shipped flags accept and that holds aigate's own classes. No Docker engine here, so the Dockerfile's steps
 * are checked by reading, and the script by running it.
 */
class AotCacheIT {

    static final Path DOCKERFILE = Path.of("Dockerfile.jvm");
    static final Path SCRIPT = Path.of("deploy/image/aot-training.sh");

    @Test
    void theImageTrainsTheCacheItsJvmIsToldToUse() throws Exception {
        String dockerfile = Files.readString(DOCKERFILE);
        Matcher from =
                Pattern.compile("(?m)^FROM \\S+/openjdk-(\\d+)-runtime:\\S+$").matcher(dockerfile);
        assertTrue(from.find(), "Dockerfile.jvm runs on a Red Hat OpenJDK runtime image");
        assertTrue(Integer.parseInt(from.group(1)) >= 25, "the image's JDK can map an AOT cache: " + from.group());
        Matcher copy = Pattern.compile("COPY [^\\n]*" + Pattern.quote(SCRIPT.toString()) + " (\\S+)")
                .matcher(dockerfile);
        assertTrue(copy.find(), "Dockerfile.jvm copies " + SCRIPT);
        assertTrue(Files.isRegularFile(SCRIPT));
        Matcher run = Pattern.compile("RUN --network=none bash " + Pattern.quote(copy.group(1)) + " java (\\S+) (\\S+)")
                .matcher(dockerfile);
        assertTrue(run.find(), "Dockerfile.jvm runs the training script it copied, with no network but loopback");
        assertEquals("/deployments/quarkus-run.jar", run.group(1), "the training starts the jar the image runs");
        Matcher used = Pattern.compile("ENV JAVA_OPTS=\"\\$JAVA_OPTS -XX:AOTCache=(\\S+)\"")
                .matcher(dockerfile);
        assertTrue(used.find(), "JAVA_OPTS is told to use the cache, after the training ran with the flags before");
        assertEquals(run.group(2), used.group(1), "the cache the JVM maps is the one the training wrote");
        assertTrue(
                dockerfile.indexOf(used.group()) > dockerfile.indexOf(run.group()),
                "the training runs before JAVA_OPTS names the cache it writes");
    }

    @Test
    void theJarPutsEveryClassWhereTheCacheCanHoldIt() throws Exception {
        // fast-jar loads the application through Quarkus's own class loader, whose classes a JDK cache cannot hold:
        // the image would ship a cache of the JDK's classes only (docs/benchmarks.md)
        try (JarFile jar = new JarFile(System.getProperty("aigate.test.jar"))) {
            var main = jar.getManifest().getMainAttributes();
            assertEquals(
                    "io.quarkus.bootstrap.runner.AotQuarkusEntryPoint",
                    main.getValue("Main-Class"),
                    "quarkus.package.jar.type=aot-jar in application.properties");
            assertTrue(main.getValue("Class-Path").contains("lib/main/"), "the libraries are on the JVM's class path");
        }
    }

    @Test
    void theTrainingWritesACacheTheShippedFlagsMap() throws Exception {
        Path java = imageJava();
        Path dir = Files.createTempDirectory("aigate-aot");
        Path cache = dir.resolve("aigate.aot");
        String jar = System.getProperty("aigate.test.jar");
        try {
            String said = run(training(java, cache, ""), dir.resolve("training.log"), 200);
            assertTrue(Files.size(cache) > 10_000_000, "a cache of the start's classes was written: " + said);
            assertTrue(Files.notExists(Path.of(cache + ".config")), "the training's own record is not left to ship");

            // AOTMode=on: a JVM that cannot map the cache refuses to start instead of quietly running without it
            List<String> command = new ArrayList<>(List.of(java.toString()));
            command.addAll(PackagedAigate.shippedJvmFlags());
            command.addAll(List.of(
                    "-XX:AOTMode=on",
                    "-XX:AOTCache=" + cache,
                    "-Xlog:class+load=info",
                    "-Xlog:aot=info",
                    "-jar",
                    jar,
                    "keys",
                    "--help"));
            String loaded = run(new ProcessBuilder(command), dir.resolve("check.log"), 60);
            String head = loaded.substring(0, Math.min(3000, loaded.length()));
            assertTrue(
                    loaded.contains("io.aigate.cli.Main source: shared objects file"),
                    "aigate's own classes come from the cache: " + head);
            assertTrue(
                    loaded.contains("io.netty.channel.epoll.Epoll source: shared objects file"),
                    "so do its libraries': " + head);
            // mapped where it was written, the cache stays page cache the node's pods share; relocated, every patched
            // page becomes each pod's own copy (docs/benchmarks.md)
            assertTrue(
                    loaded.contains("Mapped static  region #0") && !loaded.contains("alternative address"),
                    "the shipped flags map the cache at its own address: " + head);
        } finally {
            deleteAll(dir);
        }
    }

    @Test
    void aStartThatFailsShipsNoCache() throws Exception {
        Path java = imageJava();
        Path dir = Files.createTempDirectory("aigate-aot");
        Path cache = dir.resolve("aigate.aot");
        // a configuration aigate refuses: it exits during start, as a broken build's would
        String said = fails(training(java, cache, " -Daigate.backends.aoai.url=not-a-url"), dir);
        try {
            assertTrue(said.contains("aigate exited during start"), said);
            assertTrue(Files.notExists(cache), "no half-filled cache is left to ship");
        } finally {
            deleteAll(dir);
        }
    }

    @Test
    void aJvmWithoutTheCacheIsRefusedByName() throws Exception {
        Path dir = Files.createTempDirectory("aigate-aot");
        Path cache = dir.resolve("aigate.aot");
        Path script = dir.resolve("java");
        // a launcher that knows no AOT flags, as a JDK before 24 does: the image build must stop, not ship without
        Files.writeString(script, "#!/bin/sh\necho 'Unrecognized VM option' >&2\nexit 1\n");
        assertTrue(script.toFile().setExecutable(true));
        String said = fails(training(script, cache, ""), dir);
        try {
            assertTrue(said.contains(script + " cannot write an AOT cache (JDK 25 or later can)"), said);
            assertTrue(Files.notExists(cache));
        } finally {
            deleteAll(dir);
        }
    }

    private static Path imageJava() {
        var java = ImageJava.find();
        Assumptions.assumeTrue(
                java.isPresent(), "no JDK 25 or later here (AIGATE_JAVA, /usr/lib/jvm): the image's cache needs one");
        return java.get();
    }

    /** The training as the image build runs it, on free ports, with the shipped flags and {@code moreFlags}. */
    private static ProcessBuilder training(Path java, Path cache, String moreFlags) throws Exception {
        ProcessBuilder training = new ProcessBuilder(
                "bash", SCRIPT.toString(), java.toString(), System.getProperty("aigate.test.jar"), cache.toString());
        training.environment().put("JAVA_OPTS", String.join(" ", PackagedAigate.shippedJvmFlags()) + moreFlags);
        training.environment().put("AOT_TRAINING_PORT", Integer.toString(LocalRedis.freePort()));
        training.environment().put("AOT_TRAINING_MANAGEMENT_PORT", Integer.toString(LocalRedis.freePort()));
        return training;
    }

    /** Runs a training that must fail with status 1; returns what it printed. */
    private static String fails(ProcessBuilder training, Path dir) throws Exception {
        Path log = dir.resolve("training.log");
        Process p =
                training.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "it ends by itself: " + Files.readString(log));
            String said = Files.readString(log);
            assertEquals(1, p.exitValue(), "the training fails: " + said);
            return said;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Runs it to its end within {@code seconds}, which must be a success; returns what it printed. */
    private static String run(ProcessBuilder builder, Path log, int seconds) throws Exception {
        Process p =
                builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "it ends by itself: " + Files.readString(log));
            assertEquals(0, p.exitValue(), "it succeeds: " + Files.readString(log));
            return Files.readString(log);
        } finally {
            p.destroyForcibly();
        }
    }

    private static void deleteAll(Path dir) throws Exception {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
