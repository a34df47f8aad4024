package io.aigate.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.aigate.config.AigateConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigMappingInterface;
import io.smallrye.config.ConfigMappings;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md cannot drift from the code: every property a {@code @ConfigMapping} of aigate defines has a
 * row there, every {@code aigate.} key the page names is one a mapping defines, and a default the page states is the
 * mapping's. Names are derived by SmallRye Config itself (what Quarkus maps at start-up: kebab-case, {@code *} for a
 * map key, nested groups, optionals, lists), so the test reads keys exactly as the running sidecar does.
 *
 * <p>The page's format, which this test reads: a key table is a table whose first header cell is {@code key}; its
 * first cell names one or more keys, each in backticks, absolute ({@code aigate.…}, {@code quarkus.…}) or relative to
 * the prefix in backticks in the section's heading ({@code ## Backends — `aigate.backends.<name>.…`}); any
 * {@code <word>} stands for a map key. A {@code default} column's backticked values, one per key, are the defaults.
 */
class ConfigurationDocTest {

    static final Path PAGE = Path.of("docs/configuration.md");

    /** A key the page documents in a key table, where, and the default it states (null when it states none). */
    record Row(String key, int line, String stated) {}

    /** A property a mapping defines, with where it is declared (for a message a merger can act on). */
    record Mapped(String key, String declaredBy, String defaultValue) {}

    @Test
    void everyMappedPropertyHasARow() throws Exception {
        List<Row> rows = rows();
        List<String> missing = new ArrayList<>();
        for (Mapped mapped : mapped().values()) {
            if (rows.stream().noneMatch(r -> r.key().equals(mapped.key()))) {
                missing.add(PAGE + " has no row for " + placeholders(mapped.key()) + " (" + mapped.declaredBy()
                        + "): add it to the key table of its section");
            }
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void everyRowIsAMappedProperty() throws Exception {
        Map<String, Mapped> mapped = mapped();
        List<String> unknown = new ArrayList<>();
        for (Row row : rows()) {
            if (row.key().startsWith("aigate.") && !mapped.containsKey(row.key())) {
                unknown.add(PAGE + " line " + row.line() + " documents " + placeholders(row.key())
                        + ", which no @ConfigMapping defines: correct its name or remove the row");
            }
        }
        assertEquals(List.of(), unknown);
    }

    @Test
    void everyAigateKeyThePageNamesExists() throws Exception {
        Map<String, Mapped> mapped = mapped();
        List<String> unknown = new ArrayList<>();
        List<String> lines = Files.readAllLines(PAGE);
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            List<String> named = new ArrayList<>();
            if (fenced) {
                // properties examples: key=value
                Matcher assignment = Pattern.compile("^(aigate\\.[^=\\s]+)=").matcher(line);
                if (assignment.find()) {
                    named.add(assignment.group(1));
                }
            } else {
                Matcher code = Pattern.compile("`(aigate\\.[^`]*)`").matcher(line);
                while (code.find()) {
                    named.add(code.group(1));
                }
            }
            for (String name : named) {
                String key = normalise(
                        name.replaceAll("=.*", "").replaceAll("\\.?…$", "").replaceAll("\\.$", ""));
                if (!key.contains("/") && !key.contains(" ") && !namesOrLeadsTo(key, mapped)) {
                    unknown.add(PAGE + " line " + (i + 1) + " names " + name
                            + ", which is no key (nor part of one) any @ConfigMapping defines");
                }
            }
        }
        assertEquals(List.of(), unknown);
    }

    @Test
    void theDefaultsThePageStatesAreTheMappings() throws Exception {
        Map<String, Mapped> mapped = mapped();
        List<String> wrong = new ArrayList<>();
        for (Row row : rows()) {
            Mapped property = mapped.get(row.key());
            if (property == null || row.stated() == null || property.defaultValue() == null) {
                continue;
            }
            if (!row.stated().equals(property.defaultValue())) {
                wrong.add(PAGE + " line " + row.line() + " gives " + placeholders(row.key()) + " the default `"
                        + row.stated() + "`, but " + property.declaredBy() + " defaults to `" + property.defaultValue()
                        + "`");
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void theMappingsAreFound() throws Exception {
        // a scan that finds nothing would let every other test here pass on an empty set
        assertFalse(mapped().isEmpty());
        assertEquals(
                "aigate.backends.*.circuit-breaker.failure-condition.status-code-ranges",
                mapped().get("aigate.backends.*.circuit-breaker.failure-condition.status-code-ranges")
                        .key());
    }

    /** Every property of every {@code @ConfigMapping} in aigate's classes, by its name with {@code *} for map keys. */
    static Map<String, Mapped> mapped() throws IOException, URISyntaxException {
        Map<String, Mapped> all = new TreeMap<>();
        for (Class<?> mapping : mappings()) {
            String prefix = mapping.getAnnotation(ConfigMapping.class).prefix();
            Map<String, ConfigMappingInterface.Property> properties =
                    ConfigMappings.getProperties(new ConfigMappings.ConfigClass(mapping, prefix));
            properties.forEach((name, property) -> {
                if (name.endsWith("[*]")) {
                    return; // a list's indexed form (key[0]=…) of a key already listed
                }
                Method method = property.getMethod();
                String declaredBy = method.getDeclaringClass()
                                .getName()
                                .replaceAll("^.*\\.", "")
                                .replace('$', '.') + "." + method.getName() + "()";
                all.put(
                        name,
                        new Mapped(name, declaredBy, property.hasDefaultValue() ? property.getDefaultValue() : null));
            });
        }
        return all;
    }

    /** The {@code @ConfigMapping} interfaces among aigate's compiled classes (wherever a package declares one). */
    static List<Class<?>> mappings() throws IOException, URISyntaxException {
        Path classes = Path.of(AigateConfig.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
        List<Class<?>> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes.resolve("io/aigate"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name =
                        classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                try {
                    Class<?> type = Class.forName(name, false, ConfigurationDocTest.class.getClassLoader());
                    if (type.isInterface() && type.isAnnotationPresent(ConfigMapping.class)) {
                        found.add(type);
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    throw new IllegalStateException("cannot load " + name + " to look for @ConfigMapping", e);
                }
            }
        }
        return found;
    }

    /** The keys of the page's key tables, resolved against their section's prefix. */
    static List<Row> rows() throws IOException {
        List<String> lines = Files.readAllLines(PAGE);
        List<Row> rows = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        String prefix = null;
        int defaultColumn = -1;
        boolean inKeyTable = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#")) {
                Matcher heading =
                        Pattern.compile("`((?:aigate|quarkus)\\.[^`]*)`").matcher(line);
                prefix = heading.find() ? heading.group(1).replaceAll("…$", "") : null;
                if (prefix != null && !prefix.endsWith(".")) {
                    prefix = prefix + ".";
                }
                continue;
            }
            if (!line.startsWith("|")) {
                inKeyTable = false;
                continue;
            }
            List<String> cells = cells(line);
            if (!inKeyTable) {
                inKeyTable = cells.get(0).equals("key");
                defaultColumn = cells.indexOf("default");
                continue;
            }
            if (cells.get(0).matches("-+")) {
                continue;
            }
            List<String> keys = backticked(cells.get(0));
            List<String> defaults = defaultColumn > 0 && defaultColumn < cells.size()
                    ? backticked(cells.get(defaultColumn))
                    : List.of();
            for (int k = 0; k < keys.size(); k++) {
                String key = keys.get(k);
                if (!key.startsWith("aigate.") && !key.startsWith("quarkus.")) {
                    if (prefix == null) {
                        problems.add(PAGE + " line " + (i + 1) + ": " + key
                                + " is relative, but its section's heading names no prefix: write it in full");
                        continue;
                    }
                    key = prefix + key;
                }
                rows.add(new Row(normalise(key), i + 1, defaults.size() == keys.size() ? defaults.get(k) : null));
            }
        }
        assertEquals(List.of(), problems);
        return rows;
    }

    /** A table row's cells, trimmed; {@code \|} is a bar inside a cell. */
    private static List<String> cells(String line) {
        String inner = line.substring(1, line.endsWith("|") ? line.length() - 1 : line.length());
        List<String> cells = new ArrayList<>();
        for (String cell : inner.split("(?<!\\\\)\\|", -1)) {
            cells.add(cell.trim());
        }
        return cells;
    }

    private static List<String> backticked(String cell) {
        List<String> found = new ArrayList<>();
        Matcher code = Pattern.compile("`([^`]+)`").matcher(cell);
        while (code.find()) {
            found.add(code.group(1));
        }
        return found;
    }

    /** A documented name with every {@code <word>} (a map key the reader chooses) as SmallRye's {@code *}. */
    static String normalise(String name) {
        return name.replaceAll("<[^>]*>", "*");
    }

    /** The documented form of a mapped name, for messages. */
    static String placeholders(String key) {
        return key.replace("*", "<name>");
    }

    /**
     * Whether a name the page uses is a mapped key, or the start of one, segment by segment: a mapped {@code *} takes
     * any map key ({@code aigate.backends.aoai.url}), a documented {@code *} only a mapped one.
     */
    static boolean namesOrLeadsTo(String name, Map<String, Mapped> mapped) {
        String[] segments = name.split("\\.");
        for (String key : mapped.keySet()) {
            String[] keySegments = key.split("\\.");
            if (keySegments.length < segments.length) {
                continue;
            }
            boolean matches = true;
            for (int s = 0; s < segments.length && matches; s++) {
                matches = keySegments[s].equals("*") || keySegments[s].equals(segments[s]);
            }
            if (matches) {
                return true;
            }
        }
        return false;
    }
}
