package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OperationsTest {

    private final Operations operations =
            Operations.parse(List.of("POST chat/completions", "GET files/{file-id}/content", "* models"));

    @Test
    void aTemplateMatchesItsOwnOperationsAndParameters() {
        assertTrue(operations.allows("POST", "chat/completions"));
        assertTrue(operations.allows("GET", "files/file-abc/content"));
        assertTrue(operations.allows("DELETE", "models"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "chat/completions/",
                "chat//completions",
                "/chat/completions",
                "chat/completion",
                "chat/completionsx",
                "chat",
                "chat/completions/extra",
                "files//content",
                "files/file-abc",
                "files/file-abc/content/more",
                "files/file-abc/contents",
                "modelsx",
                "models/",
                ""
            })
    void anythingElseIsRefused(String operation) {
        assertFalse(operations.allows("POST", operation) || operations.allows("GET", operation), operation);
    }

    @Test
    void theMethodMustMatchUnlessTheTemplateSaysAny() {
        assertFalse(operations.allows("GET", "chat/completions"));
        assertFalse(operations.allows("POST", "files/file-abc/content"));
    }

    /**
     * A name after an id ({@code threads/{id}/runs}) is judged by the template's own segment, compared exactly: a case
     * variant a folding backend would serve matches no template, so it is 404 like any operation not granted.
     * ({@link RequestTarget#lowerCaseNames} covers the leading names, which aigate reads before any template.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"threads/thread_AbC/Runs", "threads/thread_AbC/RUNS/run_1/steps", "Threads/t/runs"})
    void aNameAfterAnIdMatchesOnlyInItsOwnCase(String operation) {
        Operations runs = Operations.parse(List.of("GET threads/{thread-id}/runs", "GET threads/{t}/runs/{r}/steps"));
        assertTrue(runs.allows("GET", "threads/thread_AbC/runs"));
        assertTrue(runs.allows("GET", "threads/thread_AbC/runs/run_1/steps"));
        assertFalse(runs.allows("GET", operation), operation);
    }
}
