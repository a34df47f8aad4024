package io.aigate.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.PackagedAigate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The AppCDS archive Dockerfile.jvm builds: its training script, run here as the image build runs it (the shipped
 * flags, nothing to talk to; the test's JVM stands in for the image's), must start aigate, stop it, and write an
 * archive that the shipped flags accept and that holds aigate's own classes. No Docker engine here, so the
 * Dockerfile's steps are checked by reading, and the script by running it.
 */
class ClassArchiveIT {

    static final Path DOCKERFILE = Path.of("Dockerfile.jvm");

    @Test
    void theImageTrainsTheArchiveItsJvmIsToldToUse() throws Exception {
        String dockerfile = Files.readString(DOCKERFILE);
        Matcher copy = Pattern.compile("COPY [^\\n]*deploy/image/cds-training\\.sh (\\S+)")
                .matcher(dockerfile);
        assertTrue(copy.find(), "Dockerfile.jvm copies deploy/image/cds-training.sh");
        assertTrue(Files.isRegularFile(Path.of("deploy/image/cds-training.sh")));
        Matcher run = Pattern.compile("RUN --network=none bash " + Pattern.quote(copy.group(1)) + " java (\\S+) (\\S+)")
                .matcher(dockerfile);
        assertTrue(run.find(), "Dockerfile.jvm runs the training script it copied, with no network but loopback");
        assertEquals("/deployments/quarkus-run.jar", run.group(1), "the training starts the jar the image runs");
        Matcher used = Pattern.compile("ENV JAVA_OPTS=\"\\$JAVA_OPTS -XX:SharedArchiveFile=(\\S+)\"")
                .matcher(dockerfile);
        assertTrue(used.find(), "JAVA_OPTS is told to use the archive, after the training ran with the flags before");
        assertEquals(run.group(2), used.group(1), "the archive the JVM maps is the one the training wrote");
        assertTrue(
                dockerfile.indexOf(used.group()) > dockerfile.indexOf(run.group()),
                "the training runs before JAVA_OPTS names the archive it writes");
    }

    @Test
    void theTrainingWritesAnArchiveTheShippedFlagsMap() throws Exception {
        Path dir = Files.createTempDirectory("aigate-cds");
        Path archive = dir.resolve("aigate.jsa");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = System.getProperty("aigate.test.jar");
        try {
            String said = run(training(archive, ""), dir.resolve("training.log"), 200);
            assertTrue(Files.size(archive) > 1_000_000, "an archive of the start's classes was written: " + said);

            // -Xshare:on: a JVM that cannot map the archive refuses to start instead of quietly running without it
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(PackagedAigate.shippedJvmFlags());
            command.addAll(List.of(
                    "-Xshare:on",
                    "-XX:SharedArchiveFile=" + archive,
                    "-Xlog:class+load=info",
                    "-Xlog:cds=info",
                    "-jar",
                    jar,
                    "keys",
                    "--help"));
            String loaded = run(new ProcessBuilder(command), dir.resolve("check.log"), 60);
            assertTrue(
                    loaded.contains("io.aigate.cli.Main source: shared objects file (top)"),
                    "aigate's own classes come from the archive: "
                            + loaded.substring(0, Math.min(2000, loaded.length())));
            // mapped where they were written, the archives stay page cache the node's pods share; relocated, every
            // patched page becomes each pod's own copy (20-28 MB, docs/benchmarks.md)
            assertTrue(
                    loaded.contains("Mapped dynamic region #0") && !loaded.contains("alternative address"),
                    "the shipped flags map the archives at their own address: "
                            + loaded.substring(0, Math.min(2000, loaded.length())));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aStartThatFailsShipsNoArchive() throws Exception {
        Path dir = Files.createTempDirectory("aigate-cds");
        Path archive = dir.resolve("aigate.jsa");
        // a configuration aigate refuses: it exits during start, as a broken build's would
        ProcessBuilder training = training(archive, " -Daigate.backends.aoai.url=not-a-url")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("training.log").toFile());
        Process p = training.start();
        try {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            String said = Files.readString(dir.resolve("training.log"));
            assertEquals(1, p.exitValue(), "the training fails: " + said);
            assertTrue(said.contains("aigate exited during start"), said);
            assertTrue(Files.notExists(archive), "no half-filled archive is left to ship");
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(dir.resolve("training.log"));
            Files.deleteIfExists(archive);
            Files.deleteIfExists(dir);
        }
    }

    /** The training as the image build runs it, on free ports, with the shipped flags and {@code moreFlags}. */
    private static ProcessBuilder training(Path archive, String moreFlags) throws Exception {
        ProcessBuilder training = new ProcessBuilder(
                "bash",
                "deploy/image/cds-training.sh",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                System.getProperty("aigate.test.jar"),
                archive.toString());
        training.environment().put("JAVA_OPTS", String.join(" ", PackagedAigate.shippedJvmFlags()) + moreFlags);
        training.environment().put("CDS_TRAINING_PORT", Integer.toString(LocalRedis.freePort()));
        training.environment().put("CDS_TRAINING_MANAGEMENT_PORT", Integer.toString(LocalRedis.freePort()));
        return training;
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
}
