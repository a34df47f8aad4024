package io.aigate.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code redis-server} and {@code redis-cli} a machine has installed, for the tests that need more than the Redis
 * 6 embedded-redis bundles (ACL selectors, a cluster built with {@code redis-cli}). Without them such a test fails
 * with one sentence saying what to install, not with an ACL syntax error or a missing-file trace.
 */
public final class RedisOnPath {

    /** Where {@code LocalRedis} looks too: the PATH, then where packages put the binaries. */
    private static final List<String> PACKAGE_DIRS = List.of("/usr/bin", "/usr/local/bin", "/usr/sbin");

    private static final Pattern VERSION = Pattern.compile("\\bv=(\\d+)\\.(\\d+)\\.\\d+");

    private RedisOnPath() {}

    /**
     * The path of {@code redis-server}, failing the test unless it is there and at least {@code major}.
     *
     * @param why what the test needs that version for, e.g. "ACL selectors"
     */
    public static Path server(int major, String why) {
        Path binary = find("redis-server");
        String problem = problem(binary, binary == null ? null : versionOf(binary), major, why);
        if (problem != null) {
            fail(problem);
        }
        return binary;
    }

    /** The path of {@code redis-cli}, failing the test unless it is there. */
    public static Path cli(String why) {
        Path binary = find("redis-cli");
        if (binary == null) {
            fail("This test needs redis-cli on the PATH (" + why + ") and finds none: " + install(7));
        }
        return binary;
    }

    private static String install(int major) {
        return "install Redis " + major
                + " or newer (sudo apt-get install redis-server redis-tools) or run the tests with .ci/run.";
    }

    /** Why a test cannot run on this {@code redis-server}, in one sentence; null when it can. */
    static String problem(Path binary, String versionOutput, int major, String why) {
        if (binary == null) {
            return "This test needs redis-server " + major + " or newer on the PATH (" + why + ") and finds none: "
                    + install(major);
        }
        Matcher version = VERSION.matcher(versionOutput == null ? "" : versionOutput);
        if (!version.find()) {
            return "This test needs redis-server " + major + " or newer (" + why + ") and cannot read the version of "
                    + binary + ": " + install(major);
        }
        if (Integer.parseInt(version.group(1)) < major) {
            return "This test needs redis-server " + major + " or newer (" + why + ") and finds " + version.group(1)
                    + "." + version.group(2) + " at " + binary + ": " + install(major);
        }
        return null;
    }

    static Path find(String name) {
        List<String> dirs = new java.util.ArrayList<>(
                List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(PACKAGE_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static String versionOf(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(10, TimeUnit.SECONDS) ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
