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
}
