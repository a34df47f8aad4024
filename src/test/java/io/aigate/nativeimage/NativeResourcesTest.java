package io.aigate.nativeimage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.knuddels.jtokkit.Encodings;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A native executable holds only the resources it was told to: one read at run time that is not listed loads on the
 * JVM and is missing in the native sidecar, found only when the code that reads it first runs (jtokkit's encodings:
 * the first cut stream to count). Each resource aigate, or a library it calls, reads must match
 * {@code quarkus.native.resources.includes}.
 */
class NativeResourcesTest {

    /**
     * aigate's classes that read resources, and which: a new reader fails {@link #noOtherAigateClassReadsAResource()}
     * until it is listed here, and its resources are then checked.
     */
    private static final Map<String, List<String>> READERS = Map.of(
            "io.aigate.redis.RedisScript", aigateScripts(),
            "io.aigate.redis.RedisFunctions", aigateScripts(),
            "io.aigate.cli.KeysCli", List.of("application.properties"),
            "io.aigate.tokens.TokenEstimator", List.of("com/knuddels/jtokkit/o200k_base.tiktoken"));

    private static final Set<String> RESOURCE_CALLS =
            Set.of("getResource", "getResourceAsStream", "getResources", "getSystemResource", "getSystemResources");

    @Test
    void everyResourceAigateReadsShipsInTheNativeImage() {
        List<String> resources = new ArrayList<>();
        READERS.values().forEach(resources::addAll);
        assertEquals(List.of(), unlisted(resources), "add these to quarkus.native.resources.includes");
    }

    @Test
    void jtokkitsEncodingsShipInTheNativeImage() throws IOException {
        List<String> encodings = new ArrayList<>();
        Path jar = Path.of(jarOf(Encodings.class));
        try (JarFile file = new JarFile(jar.toFile())) {
            file.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.endsWith(".tiktoken"))
                    .forEach(encodings::add);
        }
        assertEquals(List.of(), unlisted(encodings), "add jtokkit's encodings to quarkus.native.resources.includes");
    }

    @Test
    void noOtherAigateClassReadsAResource() {
        Set<String> readers = new TreeSet<>();
        NativeConfig.aigateClasses()
                .forEach((name, file) -> NativeConfig.calls(file, call -> {
                    if (RESOURCE_CALLS.contains(call.name())
                            && (call.owner().equals("java/lang/Class")
                                    || call.owner().equals("java/lang/ClassLoader"))) {
                        readers.add(name.contains("$") ? name.substring(0, name.indexOf('$')) : name);
                    }
                }));
        readers.removeAll(READERS.keySet());
        assertEquals(Set.of(), readers, "list what these read in READERS, and ship it in the native image");
    }

    private static List<String> unlisted(List<String> resources) {
        List<PathMatcher> includes = NativeConfig.resourceIncludes().stream()
                .map(glob -> FileSystems.getDefault().getPathMatcher("glob:" + glob))
                .toList();
        return resources.stream()
                .filter(r -> includes.stream().noneMatch(m -> m.matches(Path.of(r))))
                .toList();
    }

    /** Every file under aigate/ in the classes (the Lua scripts and the function library, loaded by name). */
    private static List<String> aigateScripts() {
        Path root = NativeConfig.classesDir();
        try (Stream<Path> files = Files.walk(root.resolve("aigate"))) {
            return files.filter(Files::isRegularFile)
                    .map(f -> root.relativize(f).toString().replace('\\', '/'))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static java.net.URI jarOf(Class<?> type) {
        try {
            return type.getProtectionDomain().getCodeSource().getLocation().toURI();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
