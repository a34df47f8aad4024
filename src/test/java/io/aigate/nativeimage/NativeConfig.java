package io.aigate.nativeimage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aigate.cli.Main;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * What the native build is told, read the way native-image reads it (aigate's {@code native-image.properties} and
 * {@code reflect-config.json}, the {@code quarkus.native.*} keys of {@code application.properties}), and aigate's
 * compiled classes, which these tests hold against it. GraalVM is not on the machines that run the suite: these are
 * the mistakes it would stop the build for (or, worse, not stop it for), found on the JVM.
 */
final class NativeConfig {

    static final String DIR = "META-INF/native-image/io.aigate/aigate/";

    private NativeConfig() {}

    /** The directory the build compiled aigate's main classes into. */
    /**
     * The instance fields (not primitive) of one of aigate's objects, its superclasses' that are aigate's too, each
     * with its value: what a walk of the object graph goes on to.
     */
    static Map<String, Object> aigateFields(Object value) throws IllegalAccessException {
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        for (Class<?> c = value.getClass(); c != null && c.getName().startsWith("io.aigate."); c = c.getSuperclass()) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (!java.lang.reflect.Modifier.isStatic(f.getModifiers())
                        && !f.getType().isPrimitive()) {
                    f.setAccessible(true);
                    fields.put(c.getName() + "." + f.getName(), f.get(value));
                }
            }
        }
        return fields;
    }

    static Path classesDir() {
        try {
            return Path.of(Main.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every class the sidecar's artifact holds of aigate's own, by binary name, with its class file. */
    static Map<String, Path> aigateClasses() {
        Path root = classesDir();
        Map<String, Path> classes = new HashMap<>();
        try (Stream<Path> files = Files.walk(root.resolve("io/aigate"))) {
            files.filter(f -> f.toString().endsWith(".class")).forEach(f -> {
                String relative = root.relativize(f).toString().replace('\\', '/');
                classes.put(
                        relative.substring(0, relative.length() - ".class".length())
                                .replace('/', '.'),
                        f);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return classes;
    }

    /** The names aigate's native-image.properties gives {@code --initialize-at-run-time}. */
    static Set<String> runTimeInitialized() {
        Properties props = new Properties();
        try (InputStream in = resource(DIR + "native-image.properties")) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Set<String> names = new TreeSet<>();
        for (String arg : props.getProperty("Args", "").trim().split("\\s+")) {
            if (arg.startsWith("--initialize-at-run-time=")) {
                Arrays.stream(arg.substring("--initialize-at-run-time=".length())
                                .split(","))
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .forEach(names::add);
            }
        }
        return names;
    }

    /** Whether native-image initialises this class at run time: named itself, or in a package named (not nested). */
    static boolean initializedAtRunTime(String className, Set<String> entries) {
        return entries.stream().anyMatch(e -> className.equals(e) || className.startsWith(e + "."));
    }

    /** The classes aigate's reflect-config.json registers, with what each registration says. */
    static Map<String, JsonNode> reflection() {
        try (InputStream in = resource(DIR + "reflect-config.json")) {
            Map<String, JsonNode> byName = new HashMap<>();
            new ObjectMapper()
                    .readTree(in)
                    .forEach(entry -> byName.put(entry.get("name").asText(), entry));
            return byName;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code quarkus.native.resources.includes} of the packed application.properties, one glob each. */
    static List<String> resourceIncludes() {
        Properties props = new Properties();
        try (InputStream in = resource("application.properties")) {
            props.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> globs = new ArrayList<>();
        for (String glob :
                props.getProperty("quarkus.native.resources.includes", "").split(",")) {
            if (!glob.isBlank()) {
                globs.add(glob.trim());
            }
        }
        return globs;
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = NativeConfig.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is not on the classpath");
        }
        return in;
    }

    /** A call one method of a class makes: the owner's internal name, the method's name. */
    record Call(String inMethod, String owner, String name) {}

    /** Every method call in a class file, with the method it is made from. */
    static void calls(Path classFile, Consumer<Call> sink) {
        try {
            new ClassReader(Files.readAllBytes(classFile))
                    .accept(
                            new ClassVisitor(Opcodes.ASM9) {
                                @Override
                                public MethodVisitor visitMethod(
                                        int access,
                                        String method,
                                        String descriptor,
                                        String signature,
                                        String[] exceptions) {
                                    return new MethodVisitor(Opcodes.ASM9) {
                                        @Override
                                        public void visitMethodInsn(
                                                int opcode,
                                                String owner,
                                                String name,
                                                String desc,
                                                boolean isInterface) {
                                            sink.accept(new Call(method, owner, name));
                                        }
                                    };
                                }
                            },
                            ClassReader.SKIP_DEBUG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
