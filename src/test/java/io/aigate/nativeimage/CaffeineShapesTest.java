package io.aigate.nativeimage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.aigate.testing.CloudDoubles;
import io.quarkus.arc.Arc;
import io.quarkus.arc.ClientProxy;
import io.quarkus.arc.InjectableBean;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Caffeine builds each bounded cache from two classes it generated ahead of time, one per builder shape (a cache class
 * such as {@code SSMSA} and a node class such as {@code PSAMS}), and finds them by name at run time: a shape whose
 * classes native-image was not told about starts on the JVM and fails in the native sidecar ({@code
 * IllegalStateException: PSAMS}). This test asks the running sidecar's own caches which classes Caffeine chose, and
 * holds them against aigate's reflect-config.json; a class that builds a cache the walk does not reach fails it too.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class CaffeineShapesTest {

    private static final String CACHE_PACKAGE = "com.github.benmanes.caffeine.cache.";

    /** A cache aigate built, by the field that holds it, and the generated classes behind it (null: unbounded). */
    record Shape(String field, String cacheClass, String nodeClass) {}

    @Test
    void everyCacheShapeTheSidecarBuildsIsRegisteredForTheNativeImage() throws Exception {
        List<Shape> shapes = shapesOfTheRunningSidecar();
        assertFalse(shapes.isEmpty(), "the walk found no cache at all");

        Map<String, JsonNode> registered = NativeConfig.reflection();
        List<String> missing = new ArrayList<>();
        for (Shape shape : shapes) {
            if (shape.cacheClass() == null) {
                continue; // an unbounded cache uses no generated class
            }
            JsonNode cache = registered.get(shape.cacheClass());
            if (cache == null || !cache.path("allDeclaredConstructors").asBoolean() || !registersFactory(cache)) {
                missing.add(shape.cacheClass() + " (constructors and FACTORY) for " + shape.field());
            }
            JsonNode node = registered.get(shape.nodeClass());
            if (node == null || !node.path("allDeclaredConstructors").asBoolean()) {
                missing.add(shape.nodeClass() + " (constructors) for " + shape.field());
            }
        }
        assertEquals(List.of(), missing, "register each in " + NativeConfig.DIR + "reflect-config.json");
    }

    @Test
    void everyClassThatBuildsACacheIsReachedByTheWalk() throws Exception {
        Set<String> owners = new TreeSet<>();
        for (Shape shape : shapesOfTheRunningSidecar()) {
            owners.add(topLevel(shape.field().substring(0, shape.field().lastIndexOf('.'))));
        }
        Set<String> builders = new TreeSet<>();
        NativeConfig.aigateClasses()
                .forEach((name, file) -> NativeConfig.calls(file, call -> {
                    if (call.owner().equals("com/github/benmanes/caffeine/cache/Caffeine")
                            && call.name().equals("newBuilder")) {
                        builders.add(topLevel(name));
                    }
                }));
        builders.removeAll(owners);
        assertEquals(
                Set.of(),
                builders,
                "these classes build a Caffeine cache that no bean of the running sidecar holds: reach it here");
    }

    private static String topLevel(String className) {
        int nested = className.indexOf('$');
        return nested < 0 ? className : className.substring(0, nested);
    }

    private static boolean registersFactory(JsonNode entry) {
        for (JsonNode field : entry.path("fields")) {
            if (field.path("name").asText().equals("FACTORY")) {
                return true;
            }
        }
        return false;
    }

    /** Every Caffeine cache held by aigate's beans (or by what they hold), with the classes Caffeine built it from. */
    private static List<Shape> shapesOfTheRunningSidecar() throws Exception {
        Map<String, Object> caches = new TreeMap<>();
        Map<Object, Boolean> seen = new IdentityHashMap<>();
        for (Bean<?> bean : Arc.container().beanManager().getBeans(Object.class, Any.Literal.INSTANCE)) {
            if (bean.getBeanClass().getName().startsWith("io.aigate.") && bean instanceof InjectableBean<?> b) {
                Object instance = ClientProxy.unwrap(Arc.container().instance(b).get());
                collect(instance, b.getBeanClass().getName(), caches, seen);
            }
        }
        List<Shape> shapes = new ArrayList<>();
        for (Map.Entry<String, Object> e : caches.entrySet()) {
            Object local = field(e.getValue(), "cache");
            if (local != null && local.getClass().getName().startsWith(CACHE_PACKAGE + "S")) {
                shapes.add(new Shape(
                        e.getKey(),
                        local.getClass().getName(),
                        field(local, "nodeFactory").getClass().getName()));
            } else {
                shapes.add(new Shape(e.getKey(), null, null));
            }
        }
        return shapes;
    }

    /** No depth bound: every object is visited once, so a cache is found however deep it is held. */
    private static void collect(Object value, String path, Map<String, Object> caches, Map<Object, Boolean> seen)
            throws IllegalAccessException {
        if (value == null || seen.put(value, Boolean.TRUE) != null) {
            return;
        }
        if (value instanceof com.github.benmanes.caffeine.cache.Cache<?, ?>
                || value instanceof com.github.benmanes.caffeine.cache.AsyncCache<?, ?>) {
            caches.put(path, value);
        } else if (value instanceof Collection<?> items) {
            for (Object item : items.toArray()) {
                collect(item, path, caches, seen);
            }
        } else if (value instanceof Map<?, ?> map) {
            for (Object item : map.values().toArray()) {
                collect(item, path, caches, seen);
            }
        } else if (value instanceof Object[] array) {
            for (Object item : array) {
                collect(item, path, caches, seen);
            }
        } else if (value.getClass().getName().startsWith("io.aigate.")) {
            for (Map.Entry<String, Object> f : NativeConfig.aigateFields(value).entrySet()) {
                collect(f.getValue(), f.getKey(), caches, seen);
            }
        }
    }

    /** A field of Caffeine's own classes, looked up through the hierarchy (test-only reflection on its internals). */
    private static Object field(Object target, String name) throws IllegalAccessException {
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (f.getName().equals(name) && !Modifier.isStatic(f.getModifiers())) {
                    f.setAccessible(true);
                    return f.get(target);
                }
            }
        }
        return null;
    }
}
