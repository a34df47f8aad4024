package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamUsageTest {

    static String restore(String event) {
        byte[] out = StreamUsage.restore(event.getBytes(StandardCharsets.UTF_8));
        return out == null ? null : new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void theUsageNullFieldAndTheUsageEventAreTakenAwayAndNothingElse() {
        assertEquals(
                "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
                restore("data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n"));
        assertEquals(
                "data: {\"id\":\"c\",\"choices\":[]}\n\n",
                restore("data: {\"usage\":null,\"id\":\"c\",\"choices\":[]}\n\n"),
                "first field: the comma after goes");
        assertNull(
                restore("data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}\n\n"));
        String untouched = "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}\n\n";
        assertEquals(untouched, restore(untouched), "text that merely looks like the field stays");
        assertEquals("data: [DONE]\n\n", restore("data: [DONE]\n\n"));
        assertEquals(": keep-alive\n\n", restore(": keep-alive\n\n"));
    }

    @Test
    void aStreamWithAddedUsageIsRestoredByteForByteHoweverItIsChunked() {
        StringBuilder asked = new StringBuilder();
        StringBuilder added = new StringBuilder();
        for (String word : new String[] {"Hello", " there", "."}) {
            String chunk = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\""
                    + word + "\"},\"finish_reason\":null}]";
            asked.append("data: ").append(chunk).append("}\r\n\r\n");
            added.append("data: ").append(chunk).append(",\"usage\":null}\r\n\r\n");
        }
        added.append("data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,"
                + "\"total_tokens\":12}}\r\n\r\n");
        asked.append("data: [DONE]\r\n\r\n");
        added.append("data: [DONE]\r\n\r\n");
        byte[] bytes = added.toString().getBytes(StandardCharsets.UTF_8);
        for (long seed = 0; seed < 50; seed++) {
            Random random = new Random(seed);
            SseRestorer restorer = new SseRestorer();
            UsageReader usage = UsageReader.forContentType("text/event-stream");
            Buffer out = Buffer.buffer();
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + random.nextInt(30));
                Buffer chunk = Buffer.buffer().appendBytes(bytes, at, n);
                usage.accept(chunk);
                out.appendBuffer(restorer.accept(chunk));
                at += n;
            }
            out.appendBuffer(restorer.finish());
            assertEquals(asked.toString(), out.toString(StandardCharsets.UTF_8), "seed " + seed);
            assertEquals(new Usage(9, 3, 12, -1, -1), usage.finish());
        }
    }

    static com.fasterxml.jackson.databind.node.ObjectNode json(String body) {
        return io.aigate.pipeline.JsonBody.parse(Buffer.buffer(body)).object();
    }

    @Test
    void usageIsRequestedOnlyForStreamsThatDidNotSayAnything() {
        JsonObject added = new JsonObject(
                StreamUsage.requestUsage(json("{\"stream\":true,\"messages\":[],\"stream_options\":{\"other\":1}}")));
        assertTrue(added.getJsonObject("stream_options").getBoolean("include_usage"));
        assertEquals(1, added.getJsonObject("stream_options").getInteger("other"));
        assertNull(StreamUsage.requestUsage(json("{\"stream\":false}")));
        assertNull(StreamUsage.requestUsage(json("{\"messages\":[]}")));
        assertNull(
                StreamUsage.requestUsage(json("{\"stream\":true,\"stream_options\":{\"include_usage\":false}}")),
                "an explicit no is respected");
        assertNull(StreamUsage.requestUsage(json("[1,2]")));
        assertNull(StreamUsage.requestUsage(json("not json")));
    }

    @Test
    void usageIsAskedForOnlyWhereTheApiVersionAcceptsIt() {
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts(null), "v1 API");
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts("api-version=2024-10-21"));
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts("x=1&api-version=2025-04-01-preview"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts("api-version=2024-06-01"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts("api-version=2024-08-01-preview"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts("api-version=garbage"));
    }
}
