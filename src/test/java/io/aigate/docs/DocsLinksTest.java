package io.aigate.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README and the pages of docs/ hold together: every relative link reaches a file that exists and, with an
 * {@code #anchor}, a heading of that file (GitHub's anchors); every page of docs/ is reachable from the README. Links
 * to other sites are not followed: nothing here leaves the machine.
 */
class DocsLinksTest {

    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*]\\(([^)\\s]+)\\)");

    @Test
    void everyRelativeLinkReachesAFileAndItsHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        Map<Path, Set<String>> anchors = new HashMap<>();
        for (Path page : pages()) {
            List<String> lines = prose(page);
            for (int i = 0; i < lines.size(); i++) {
                Matcher link = LINK.matcher(lines.get(i));
                while (link.find()) {
                    String target = link.group(1);
                    if (target.matches("^[a-z]+:.*")) {
                        continue; // https:, mailto:: another site's business
                    }
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path dir = page.getParent() == null ? Path.of("") : page.getParent();
                    Path resolved = file.isEmpty() ? page : dir.resolve(file).normalize();
                    String where = page + " line " + (i + 1) + " links " + target;
                    if (!Files.exists(resolved)) {
                        broken.add(where + ", but " + resolved + " does not exist");
                        continue;
                    }
                    if (hash >= 0) {
                        String anchor = target.substring(hash + 1);
                        Set<String> known = anchors.computeIfAbsent(resolved, DocsLinksTest::anchorsOf);
                        if (!known.contains(anchor)) {
                            broken.add(where + ", but " + resolved + " has no heading #" + anchor + " (it has " + known
                                    + ")");
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), broken);
    }

    @Test
    void everyPageOfDocsIsLinkedFromTheReadme() throws IOException {
        String readme = String.join("\n", prose(Path.of("README.md")));
        List<String> unlinked = new ArrayList<>();
        for (Path page : pages()) {
            if (page.startsWith("docs")
                    && !readme.contains("](" + page.toString().replace('\\', '/'))) {
                unlinked.add("README.md does not link " + page + ": add it to \"Where the rest is\"");
            }
        }
        assertEquals(List.of(), unlinked);
    }

    @Test
    void anchorsAreGitHubs() {
        assertEquals(
                Set.of("cost-per-pod-what-was-found-and-changed-issue-13", "backends--aigatebackendsname"),
                anchorsOf(List.of(
                        "## Cost per pod: what was found and changed (issue 13)",
                        "## Backends — `aigate.backends.<name>.…`")));
        assertEquals(Set.of("usage", "usage-1"), anchorsOf(List.of("## Usage", "### Usage")));
    }

    /** README.md and every page under docs/. */
    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        assertFalse(pages.size() < 2, "docs/ has no pages");
        return pages;
    }

    /** The page's lines with fenced blocks blanked, so a link-like text in an example is not taken for a link. */
    static List<String> prose(Path page) throws IOException {
        List<String> lines = new ArrayList<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(page)) {
            if (line.startsWith("```")) {
                fenced = !fenced;
                lines.add("");
            } else {
                lines.add(fenced ? "" : line.replaceAll("`[^`]*`", "``"));
            }
        }
        return lines;
    }

    private static Set<String> anchorsOf(Path page) {
        try {
            List<String> headings = new ArrayList<>();
            boolean fenced = false;
            for (String line : Files.readAllLines(page)) {
                if (line.startsWith("```")) {
                    fenced = !fenced;
                } else if (!fenced && line.startsWith("#")) {
                    headings.add(line);
                }
            }
            return anchorsOf(headings);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** GitHub's: lower case, punctuation dropped (letters, digits, space, - and _ kept), spaces as -, repeats -1. */
    static Set<String> anchorsOf(List<String> headings) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String heading : headings) {
            String text = heading.replaceFirst("^#+\\s*", "").trim().toLowerCase(Locale.ROOT);
            String slug = text.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        return anchors;
    }
}
