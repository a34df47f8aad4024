package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.LogCapture;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The request lifecycle's promise, from outside: however a request ends (relayed, streamed, refused on any line,
 * no backend answer), it gets exactly one record (one audit line), and every byte it held is given back.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class EveryRequestEndsOnceTest extends AigateTest {

    static final String CHAT = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    HttpResponse<String> send(String id, String path, String body, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create(base.toString()).resolve(path))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json")
                .header("x-ms-client-request-id", id);
        if (key != null) {
            request.header("Ocp-Apim-Subscription-Key", key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void everyWayARequestEndsWritesOneRecordAndGivesItsBytesBack() throws Exception {
        String chat = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
        Map<String, Integer> expected = new LinkedHashMap<>();
        try (LogCapture logs = LogCapture.start()) {
            expected.put(
                    "end-relayed",
                    send("end-relayed", chat, CHAT, CloudDoubles.key).statusCode());
            expected.put(
                    "end-streamed",
                    send("end-streamed", chat, CHAT.replace("}]}", "}],\"stream\":true}"), CloudDoubles.key)
                            .statusCode());
            expected.put(
                    "end-v1",
                    send(
                                    "end-v1",
                                    "/openai/v1/chat/completions",
                                    CHAT.replace("{\"messages\"", "{\"model\":\"gpt-4o\",\"messages\""),
                                    CloudDoubles.key)
                            .statusCode());
            expected.put("end-no-key", send("end-no-key", chat, CHAT, null).statusCode());
            expected.put(
                    "end-bad-key",
                    send("end-bad-key", chat, CHAT, "aig_not_a_key").statusCode());
            expected.put(
                    "end-unknown",
                    send("end-unknown", chat.replace("gpt-4o", "gpt-nothing"), CHAT, CloudDoubles.key)
                            .statusCode());
            expected.put(
                    "end-bad-body",
                    send("end-bad-body", chat, "{\"messages\":[", CloudDoubles.key)
                            .statusCode());
            expected.put(
                    "end-target",
                    send("end-target", "/openai/deployments/gpt-4o/../x", CHAT, CloudDoubles.key)
                            .statusCode());
            expected.put(
                    "end-dead",
                    send("end-dead", chat.replace("gpt-4o", "gpt-dead"), CHAT, CloudDoubles.key)
                            .statusCode());
            assertEquals(
                    Map.of(
                            "end-relayed", 200,
                            "end-streamed", 200,
                            "end-v1", 200,
                            "end-no-key", 401,
                            "end-bad-key", 401,
                            "end-unknown", 404,
                            "end-bad-body", 400,
                            "end-target", 400,
                            "end-dead", 502),
                    expected);
            for (Map.Entry<String, Integer> e : expected.entrySet()) {
                String id = e.getKey();
                io.vertx.core.json.JsonObject line =
                        Await.value("the record of " + id, Duration.ofSeconds(5), () -> logs.auditLine(id));
                assertEquals((int) e.getValue(), line.getInteger("status"), line.encode());
            }
            // the records are in: none was written twice
            for (String id : expected.keySet()) {
                long records = logs.lines().stream()
                        .filter(l -> l.startsWith("aigate.audit {") && l.contains("\"request_id\":\"" + id + "\""))
                        .count();
                assertEquals(1, records, id + " has one record");
            }
        }
        Await.until(
                "every buffered byte given back",
                Duration.ofSeconds(5),
                () -> metrics().lines().anyMatch("aigate_request_buffered_bytes 0.0"::equals));
    }
}
