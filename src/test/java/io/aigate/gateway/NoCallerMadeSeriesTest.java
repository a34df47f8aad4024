package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aigate.testing.AigateTest;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.HostileBackend;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Every label value comes from configuration or a fixed set: a caller that varies what it controls (the file id in a
 * path, the deployment under {@code *}, a v1 body's model, headers) and a backend that varies what it controls (its
 * status) make no new series on {@code /q/metrics}, once each kind of request has been seen once.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(BackendAnswersTest.Hostile.class)
class NoCallerMadeSeriesTest extends AigateTest {

    static final HostileBackend HOSTILE = BackendAnswersTest.HOSTILE;

    HttpResponse<String> send(String method, String path, String body, int i) throws Exception {
        return request(
                method,
                path,
                "application/json",
                body,
                "x-ms-client-request-id",
                "series-" + i + "-" + System.nanoTime(),
                "x-caller-" + i,
                "value-" + i,
                "User-Agent",
                "series-agent/" + i);
    }

    /** One round of everything a caller or backend may vary, with {@code i} as the varied part. */
    void round(int i) throws Exception {
        HOSTILE.answerNext(HostileBackend.answer(200, "{\"id\":\"file-" + i + "\",\"object\":\"file\"}"));
        assertEquals(200, send("GET", "/openai/v1/files/file-" + i, null, i).statusCode());
        HOSTILE.answerNext(HostileBackend.answer(200, "{}"));
        assertEquals(
                200,
                send("GET", "/openai/v1/files/file-" + i + "/content", null, i).statusCode());
        // a deployment no route names, which the backend (any backend that answers every name) serves
        String chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        assertEquals(
                200,
                send("POST", "/openai/deployments/made-up-" + i + "/chat/completions?api-version=2024-10-21", chat, i)
                        .statusCode());
        assertEquals(
                200,
                send("POST", "/openai/v1/chat/completions", "{\"model\":\"v1-made-up-" + i + "\",\"messages\":[]}", i)
                        .statusCode());
        // statuses no standard defines, one per round, on a configured deployment and on an invented one
        HOSTILE.answerNext(
                HostileBackend.answer(460 + i, "{\"error\":{\"code\":\"x\",\"message\":\"x\"}}"),
                HostileBackend.answer(520 + i, "{\"error\":{\"code\":\"x\",\"message\":\"x\"}}"));
        assertEquals(
                460 + i,
                send("POST", "/openai/deployments/gpt-hostile/chat/completions", chat, i)
                        .statusCode());
        assertEquals(
                520 + i,
                send("POST", "/openai/deployments/made-up-" + i + "/chat/completions", chat, i)
                        .statusCode());
    }

    /** The series of aigate's own meters and the GenAI ones, by name and labels (values dropped). */
    Set<String> series() throws Exception {
        return metrics()
                .lines()
                .filter(l -> l.startsWith("aigate_") || l.startsWith("gen_ai_") || l.startsWith("http_"))
                .map(l -> l.substring(0, l.lastIndexOf(' ')))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /**
     * The series once the last answers' meters are recorded: a request is metered as it ends, which may be just after
     * its caller has read the answer.
     */
    Set<String> settled() throws Exception {
        Set<String> last = series();
        for (int i = 0; i < 50; i++) {
            Thread.sleep(100);
            Set<String> now = series();
            if (now.equals(last)) {
                return now;
            }
            last = now;
        }
        return last;
    }

    @Test
    void callersAndBackendsMakeNoNewSeries() throws Exception {
        HOSTILE.clear();
        round(0);
        Set<String> before = settled();
        for (int i = 1; i <= 12; i++) {
            round(i);
        }
        Set<String> after = settled();
        after.removeAll(before);
        assertEquals(Set.of(), after, "series made by callers or a backend");
    }
}
