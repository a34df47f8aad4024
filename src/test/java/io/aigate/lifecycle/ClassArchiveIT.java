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
 * The AppCDS archive Dockerfile.jvm builds: its training script, run here as the image build runs it (the image's JVM,
 * the shipped flags, nothing to talk to), must write an archive that the shipped flags accept and that holds aigate's
 * own classes. No Docker engine here, so the Dockerfile's steps are checked by reading, and the script by running it.
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
        Matcher run = Pattern.compile("RUN bash " + Pattern.quote(copy.group(1)) + " java (\\S+) (\\S+)")
                .matcher(dockerfile);
        assertTrue(run.find(), "Dockerfile.jvm runs the training script it copied");
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
        Path archive = Files.createTempDirectory("aigate-cds").resolve("aigate.jsa");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar = System.getProperty("aigate.test.jar");
        ProcessBuilder training = new ProcessBuilder(
                        "bash", "deploy/image/cds-training.sh", java, jar, archive.toString())
                .redirectErrorStream(true);
        training.environment().put("JAVA_OPTS", String.join(" ", PackagedAigate.shippedJvmFlags()));
        training.environment().put("CDS_TRAINING_PORT", Integer.toString(LocalRedis.freePort()));
        training.environment().put("CDS_TRAINING_MANAGEMENT_PORT", Integer.toString(LocalRedis.freePort()));
        Process p = training.start();
        String said = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the training stops by itself");
        assertEquals(0, p.exitValue(), "the training succeeds: " + said);
        assertTrue(Files.size(archive) > 1_000_000, "an archive of the start's classes was written");

        // -Xshare:on: a JVM that cannot map the archive refuses to start instead of quietly running without it
        List<String> command = new ArrayList<>(List.of(java));
        command.addAll(PackagedAigate.shippedJvmFlags());
        command.addAll(List.of(
                "-Xshare:on",
                "-XX:SharedArchiveFile=" + archive,
                "-Xlog:class+load=info",
                "-jar",
                jar,
                "keys",
                "--help"));
        Process check = new ProcessBuilder(command).redirectErrorStream(true).start();
        String loaded = new String(check.getInputStream().readAllBytes());
        assertTrue(check.waitFor(60, TimeUnit.SECONDS));
        assertTrue(
                loaded.contains("io.aigate.cli.Main source: shared objects file (top)"),
                "aigate's own classes come from the archive: " + loaded.substring(0, Math.min(2000, loaded.length())));
    }
}
