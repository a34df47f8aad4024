package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.aigate.pipeline.QueryString;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestTargetTest {

    @Test
    void classicPathsNameTheirDeployment() {
        RequestTarget t = RequestTarget.parse("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
        assertEquals(RequestTarget.Kind.CLASSIC, t.kind());
        assertEquals("gpt-4o", t.deployment());
        assertEquals("/openai/deployments/gpt-4o/chat/completions", t.path());
        assertEquals("api-version=2024-10-21", t.query());
    }

    @Test
    void v1PathsLeaveTheDeploymentToTheBody() {
        RequestTarget t = RequestTarget.parse("/openai/v1/chat/completions");
        assertEquals(RequestTarget.Kind.V1, t.kind());
        assertNull(t.deployment());
        assertNull(t.query());
    }

    /** A name aigate would compare in lower case and a backend might fold: no operation aigate knows. */
    @Test
    void operationNamesInAnotherCaseAreNoOperation() {
        for (String target : new String[] {
            "/openai/v1/Responses",
            "/openai/v1/RESPONSES/resp_1",
            "/openai/v1/chat/Completions",
            "/openai/deployments/gpt-4o/Chat/completions",
            "/openai/deployments/gpt-4o/audio/Transcriptions"
        }) {
            assertEquals(
                    RequestTarget.Kind.NOT_FOUND, RequestTarget.parse(target).kind(), target);
        }
        assertEquals(
                "threads/thread_AbC9/messages",
                RequestTarget.parse("/openai/v1/threads/thread_AbC9/messages").operation(),
                "an id keeps its case");
        assertEquals(
                RequestTarget.Kind.CLASSIC,
                RequestTarget.parse("/openai/deployments/GPT-4o/chat/completions")
                        .kind(),
                "a deployment name is the operator's, in any case");
    }

    @Test
    void theOperationIsThePathBelowTheApiRoot() {
        assertEquals(
                "chat/completions",
                RequestTarget.parse("/openai/deployments/gpt-4o/chat/completions")
                        .operation());
        assertEquals(
                "files/file-1/content",
                RequestTarget.parse("/openai/v1/files/file-1/content").operation());
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "http://evil/openai/v1/x",
                "*",
                "evil:443",
                "/openai/deployments/a/../b",
                "/openai/deployments/%2e%2E/b",
                "/openai/deployments/a%2fb/c",
                "/openai/deployments/a%5cb/c",
                "/openai/deployments/a/./b",
                "/openai/deployments/a//b",
                "/openai/deployments/a/b%00",
                "/openai/deployments/a/b%",
                "/openai/deployments/a/b%zz",
                "/openai/deployments/a/b\\c",
                "/openai/deployments/a/b c",
                "/openai/deployments/a/b#frag",
                "/openai/v1/%252e%252e/x",
                "/openai/deployments/a/\u00e9",
                "/openai/deployments/gpt%2D4o/chat/completions",
                "/openai/deployments/a/..;/x",
                "/openai/deployments/gpt-4o;v=1/chat/completions",
                "/openai/deployments/gpt-4o%20/chat/completions",
                "/openai/deployments/gpt-4o%3B/chat",
                "/openai/deployments/gpt~4o/chat/completions",
                "/openai/v1/chat/completions;x",
                "/openai/deployments/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/chat"
            })
    void targetsThatCouldEscapeOrConfuseAreInvalid(String uri) {
        assertEquals(RequestTarget.Kind.INVALID, RequestTarget.parse(uri).kind(), uri);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/",
                "/openai",
                "/openai/deployments/",
                "/openai/deployments/gpt-4o",
                "/openai/deployments/gpt-4o/",
                "/openai/v1/",
                "/admin"
            })
    void otherPathsAreNotFound(String uri) {
        assertEquals(RequestTarget.Kind.NOT_FOUND, RequestTarget.parse(uri).kind(), uri);
    }

    @Test
    void credentialsLeaveTheQueryAndEverythingElseStaysByteForByte() {
        Set<String> dropped = Set.of("subscription-key");
        assertEquals(
                "api-version=2024-10-21&x=%20y",
                QueryString.without(
                        "subscription-key=s1&api-version=2024-10-21&Subscription-Key=s2&x=%20y&subscription%2Dkey=s3",
                        dropped));
        assertEquals("", QueryString.without("subscription-key=only", dropped));
        assertEquals("a=1", QueryString.without("a=1&%zz=secret", dropped));
        assertNull(QueryString.without(null, dropped));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {"gpt-4o", "a", "A.b_c-9", "x234567890123456789012345678901234567890123456789012345678901234"})
    void deploymentNamesAreWhatAzureAccepts(String name) {
        assertEquals(true, RequestTarget.validDeploymentName(name), name);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                ".",
                "..",
                "-gpt",
                "gpt-",
                "gpt.",
                "gpt 4o",
                "gpt%2e",
                "gpt\u00e9",
                "x2345678901234567890123456789012345678901234567890123456789012345"
            })
    void anyOtherDeploymentNameIsRefused(String name) {
        assertEquals(false, RequestTarget.validDeploymentName(name), name);
    }
}
