package io.aigate.nativeimage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Quarkus has native-image initialise every class at build time unless told otherwise, and what those initialisers
 * make is frozen into the image heap: native-image refuses a random source, a Netty buffer, a Vert.x or a thread
 * there, and whatever else an initialiser read (the environment, the time, a random id) is the build machine's, in
 * every pod. This test initialises every class of aigate's as the build would and looks at what they hold, and at what
 * their initialisers call, so that each of those mistakes fails here, on the JVM, instead of in a native build.
 */
class BuildTimeInitTest {

    /**
     * Types the image heap must not hold (native-image stops the build for each, or the object is useless at run time:
     * a started pool, a client bound to the builder's event loops).
     */
    private static final List<String> REFUSED = List.of(
            "java.util.random.RandomGenerator", // Random, SecureRandom, SplittableRandom, ThreadLocalRandom
            "java.lang.Thread",
            "java.util.concurrent.Executor",
            "java.util.Timer",
            "io.netty.buffer.ByteBuf",
            "io.netty.channel.Channel",
            "io.netty.util.concurrent.EventExecutorGroup",
            "io.vertx.core.buffer.Buffer",
            "io.vertx.core.Vertx",
            "io.vertx.core.Context",
            "io.vertx.core.http.HttpClient",
            "io.vertx.core.http.HttpServer",
            "io.vertx.core.net.NetClient",
            "io.vertx.redis.client.Redis",
            "io.vertx.redis.client.RedisConnection",
            "com.azure.core.http.HttpClient",
            "com.azure.core.credential.TokenCredential",
            "java.net.http.HttpClient");

    /**
     * Calls whose answer differs between the build machine and the pod (or between two pods): made from a static
     * initialiser, their result would be the build's, in every binary.
     */
    private static final Set<String> FROZEN_CALLS = Set.of(
            "java/util/UUID.randomUUID",
            "java/lang/System.getenv",
            "java/lang/System.getProperty",
            "java/lang/System.nanoTime",
            "java/lang/System.currentTimeMillis",
            "java/time/Instant.now",
            "java/time/LocalDateTime.now",
            "java/time/OffsetDateTime.now",
            "java/time/ZonedDateTime.now",
            "java/lang/Runtime.availableProcessors",
            "java/lang/Runtime.maxMemory",
            "java/lang/ProcessHandle.current",
            "java/net/InetAddress.getLocalHost",
            "java/util/concurrent/ThreadLocalRandom.current",
            "java/util/Random.<init>",
            "java/security/SecureRandom.<init>",
            "java/util/SplittableRandom.<init>",
            "java/lang/Thread.<init>",
            "java/util/Timer.<init>",
            "io/vertx/core/Vertx.vertx",
            "io/vertx/core/buffer/Buffer.buffer");

    /** Executors' factories, refused from a static initialiser whatever their name. */
    private static final String EXECUTORS = "java/util/concurrent/Executors";

    @Test
    void noClassInitialisedAtBuildTimeHoldsWhatTheImageHeapRefuses() throws Exception {
        List<Class<?>> refused = new ArrayList<>();
        for (String name : REFUSED) {
            refused.add(Class.forName(name, false, getClass().getClassLoader()));
        }
        Set<String> runTime = NativeConfig.runTimeInitialized();
        List<String> found = new ArrayList<>();
        for (String name : new TreeSet<>(NativeConfig.aigateClasses().keySet())) {
            if (NativeConfig.initializedAtRunTime(name, runTime)) {
                continue;
            }
            Class<?> type;
            try {
                type = Class.forName(name, true, getClass().getClassLoader());
            } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
                found.add(name + ": its initialiser fails outside the running application, as it would at build time ("
                        + e + ")");
                continue;
            }
            for (Field field : type.getDeclaredFields()) {
                if (!Modifier.isStatic(field.getModifiers()) || field.getType().isPrimitive()) {
                    continue;
                }
                String where = name + "." + field.getName();
                for (Class<?> no : refused) {
                    if (no.isAssignableFrom(field.getType())) {
                        found.add(where + " is declared " + field.getType().getName());
                    }
                }
                field.setAccessible(true);
                new Walk(refused, found).visit(field.get(null), where, 0);
            }
        }
        assertEquals(
                List.of(),
                found,
                "a class native-image initialises at build time holds what the image heap refuses: make it at run time"
                        + " (in the instance, or on first use), or list the class in " + NativeConfig.DIR
                        + "native-image.properties with why");
    }

    @Test
    void noStaticInitialiserReadsWhatDiffersBetweenTheBuildAndThePod() {
        Set<String> runTime = NativeConfig.runTimeInitialized();
        List<String> found = new ArrayList<>();
        for (Map.Entry<String, Path> c : new java.util.TreeMap<>(NativeConfig.aigateClasses()).entrySet()) {
            if (NativeConfig.initializedAtRunTime(c.getKey(), runTime)) {
                continue;
            }
            NativeConfig.calls(c.getValue(), call -> {
                String target = call.owner() + "." + call.name();
                if (call.inMethod().equals("<clinit>")
                        && (FROZEN_CALLS.contains(target) || call.owner().equals(EXECUTORS))) {
                    found.add(c.getKey() + "'s static initialiser calls " + target.replace('/', '.'));
                }
            });
        }
        assertEquals(
                List.of(),
                found,
                "what a build-time initialiser reads is the build machine's, in every binary: read it at run time");
    }

    /** The entries the build errors need, each still naming a class that exists (an upgrade may move it). */
    @Test
    void everyRunTimeInitialisationNamesAClassThatExists() {
        Set<String> runTime = NativeConfig.runTimeInitialized();
        for (String needed : List.of(
                // azure-core's optional XML support: jackson-dataformat-xml is not shipped
                "com.azure.core.util.serializer.JacksonAdapter$GlobalXmlMapper",
                "com.azure.core.implementation.jackson.XmlMapperFactory",
                // azure-core's HTTP client providers and the Vert.x client's own Vert.x
                "com.azure.core.implementation.http.HttpClientProviders",
                "com.azure.core.http.vertx.VertxHttpClientProvider$GlobalVertxHttpClient",
                "com.azure.core.http.vertx.VertxHttpClientBuilder$DefaultVertx")) {
            assertTrue(runTime.contains(needed), needed + " must be initialised at run time");
        }
        List<String> missing = new ArrayList<>();
        for (String name : runTime) {
            try {
                Class.forName(name, false, getClass().getClassLoader());
            } catch (ClassNotFoundException e) {
                missing.add(name);
            }
        }
        assertEquals(List.of(), missing, "native-image.properties names classes that are not on the classpath");
    }

    /** What a static field's value reaches: aigate's own objects, arrays, collections and holders, a few levels deep. */
    private record Walk(List<Class<?>> refused, List<String> found, Map<Object, Boolean> seen) {

        Walk(List<Class<?>> refused, List<String> found) {
            this(refused, found, new IdentityHashMap<>());
        }

        void visit(Object value, String path, int depth) throws IllegalAccessException {
            if (value == null || depth > 6 || seen.put(value, Boolean.TRUE) != null) {
                return;
            }
            for (Class<?> no : refused) {
                if (no.isInstance(value)) {
                    found.add(path + " holds a " + value.getClass().getName());
                    return;
                }
            }
            if (value instanceof Object[] array) {
                for (int i = 0; i < array.length; i++) {
                    visit(array[i], path + "[" + i + "]", depth + 1);
                }
            } else if (value instanceof Collection<?> items) {
                for (Object item : items.toArray()) {
                    visit(item, path + "[]", depth + 1);
                }
            } else if (value instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : Map.copyOf(map).entrySet()) {
                    visit(e.getKey(), path + ".key", depth + 1);
                    visit(e.getValue(), path + "[" + e.getKey() + "]", depth + 1);
                }
            } else if (value instanceof Optional<?> optional) {
                visit(optional.orElse(null), path + ".get()", depth + 1);
            } else if (value instanceof AtomicReference<?> ref) {
                visit(ref.get(), path + ".get()", depth + 1);
            } else if (value.getClass().getName().startsWith("io.aigate.")) {
                for (Map.Entry<String, Object> f :
                        NativeConfig.aigateFields(value).entrySet()) {
                    String name = f.getKey().substring(f.getKey().lastIndexOf('.') + 1);
                    visit(f.getValue(), path + "." + name, depth + 1);
                }
            }
        }
    }
}
