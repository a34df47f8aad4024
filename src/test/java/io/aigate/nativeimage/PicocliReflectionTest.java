package io.aigate.nativeimage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.AccessibleObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * picocli reads its commands by reflection; in the native image that works only for the classes picocli-codegen (the
 * annotation processor in the pom) wrote into the reflection configuration at compile time. A command compiled
 * without it parses on the JVM and fails in the native {@code aigate keys …} / {@code aigate inject}.
 */
class PicocliReflectionTest {

    private static final String GENERATED =
            "META-INF/native-image/picocli-generated/io.aigate/aigate/reflect-config.json";

    private static final List<Class<? extends Annotation>> PICOCLI = List.of(
            CommandLine.Command.class,
            CommandLine.Option.class,
            CommandLine.Parameters.class,
            CommandLine.Mixin.class,
            CommandLine.ArgGroup.class,
            CommandLine.Spec.class,
            CommandLine.ParentCommand.class);

    @Test
    void everyClassPicocliReadsIsInTheGeneratedReflectionConfiguration() throws Exception {
        Set<String> registered = new TreeSet<>();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(GENERATED)) {
            if (in != null) {
                new ObjectMapper()
                        .readTree(in)
                        .forEach(e -> registered.add(e.get("name").asText()));
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : new TreeSet<>(NativeConfig.aigateClasses().keySet())) {
            Class<?> type = Class.forName(name, false, getClass().getClassLoader());
            if (usesPicocli(type) && !registered.contains(name)) {
                missing.add(name);
            }
        }
        assertEquals(List.of(), missing, "picocli-codegen did not register these (" + GENERATED + ")");
    }

    private static boolean usesPicocli(Class<?> type) {
        List<AccessibleObject> members = new ArrayList<>(List.of(type.getDeclaredFields()));
        members.addAll(List.of(type.getDeclaredMethods()));
        for (Class<? extends Annotation> a : PICOCLI) {
            if (type.isAnnotationPresent(a) || members.stream().anyMatch(m -> m.isAnnotationPresent(a))) {
                return true;
            }
        }
        return false;
    }
}
