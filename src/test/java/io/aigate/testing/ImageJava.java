package io.aigate.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The JVM the image runs aigate on (Dockerfile.jvm's FROM: JDK 25), found on this machine the way bench/lib.sh finds
 * it: {@code AIGATE_JAVA} names one, else the first JDK 25 or later under /usr/lib/jvm, else the test's own JVM when
 * it is one. The build compiles for 17, so the packaged sidecar runs on either; what the image adds on 25 (its AOT
 * cache) needs this one.
 */
public final class ImageJava {

    static final int FEATURE = 25;
    private static final Pattern VERSION = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)");

    private ImageJava() {}

    /** The {@code java} launcher of a JDK 25 or later, if this machine has one. */
    public static Optional<Path> find() {
        List<Path> homes = new ArrayList<>();
        String named = System.getenv("AIGATE_JAVA");
        if (named != null && !named.isBlank()) {
            // AIGATE_JAVA is a launcher (…/bin/java), as for the benches; only it is tried when set
            Path java = Path.of(named).toAbsolutePath();
            Path bin = java.getParent();
            return bin != null && bin.getParent() != null && isAtLeast(bin.getParent())
                    ? Optional.of(java)
                    : Optional.empty();
        }
        try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            jvms.sorted().forEach(homes::add);
        } catch (IOException noJvmDirectory) {
            // a machine without /usr/lib/jvm still has the test's own JVM
        }
        homes.add(Path.of(System.getProperty("java.home")));
        return homes.stream()
                .filter(ImageJava::isAtLeast)
                .map(home -> home.resolve("bin").resolve("java"))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** The image's JVM when this machine has one, else the test's own (for what runs the same on both). */
    public static Path orTestJvm() {
        return find().orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    static boolean isAtLeast(Path home) {
        try {
            Matcher m = VERSION.matcher(Files.readString(home.resolve("release")));
            return m.find() && Integer.parseInt(m.group(1)) >= FEATURE;
        } catch (IOException | RuntimeException notAJdk) {
            return false;
        }
    }
}
