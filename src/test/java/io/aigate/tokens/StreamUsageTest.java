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
            UsageReader usage = UsageReader.of(UsageReader.kindOf("text/event-stream"));
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

    static JsonObject asked(String body) {
        StreamUsage.Asked asked = StreamUsage.requestUsage(json(body));
        assertNull(asked.problem(), body);
        return asked.body() == null ? null : new JsonObject(asked.body());
    }

    @Test
    void usageIsAskedWhateverTheCallerSaidAndOnlyAStreamThatAskedItselfIsLeftAlone() {
        JsonObject added = asked("{\"stream\":true,\"messages\":[],\"stream_options\":{\"other\":1}}");
        assertTrue(added.getJsonObject("stream_options").getBoolean("include_usage"));
        assertEquals(1, added.getJsonObject("stream_options").getInteger("other"));
        for (String said : new String[] {
            "{\"stream\":true,\"stream_options\":{\"include_usage\":false}}",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":null}}",
            "{\"stream\":true,\"stream_options\":null}",
            "{\"stream\":true,\"stream_options\":{}}",
            "{\"stream\":true}"
        }) {
            JsonObject body = asked(said);
            assertTrue(body != null && body.getJsonObject("stream_options").getBoolean("include_usage"), said);
        }
        assertNull(asked("{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"), "asked already");
        assertNull(asked("{\"stream\":false}"));
        assertNull(asked("{\"stream\":null}"));
        assertNull(asked("{\"messages\":[]}"));
        assertEquals(StreamUsage.Asked.NOTHING, StreamUsage.requestUsage(null), "no JSON body");
    }

    @Test
    void streamSettingsOfAnotherTypeAreRefusedNotGuessedAt() {
        for (String body : new String[] {
            "{\"stream\":\"true\"}",
            "{\"stream\":1}",
            "{\"stream\":true,\"stream_options\":\"include_usage\"}",
            "{\"stream\":true,\"stream_options\":[true]}",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":\"false\"}}",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":0}}"
        }) {
            StreamUsage.Asked asked = StreamUsage.requestUsage(json(body));
            assertTrue(asked.problem() != null && asked.body() == null, body);
        }
    }

    @Test
    void usageIsAskedForOnlyWhereTheApiVersionAcceptsIt() {
        String classic = "/openai/deployments/d/chat/completions";
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts(classic, null));
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts(classic, "api-version=2024-10-21"));
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts(classic, "x=1&api-version=2025-04-01-preview"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts(classic, "api-version=2024-06-01"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts(classic, "api-version=2024-08-01-preview"));
        assertTrue(!LlmEmitTokenMetric.apiVersionAccepts(classic, "api-version=garbage"));
        // the v1 API takes stream_options whatever its optional api-version says: a caller cannot opt out by naming one
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts("/openai/v1/chat/completions", "api-version=preview"));
        assertTrue(LlmEmitTokenMetric.apiVersionAccepts("/openai/v1/completions", "api-version=2024-06-01"));
    }

    @Test
    void anEventPastTheBoundIsReleasedAsItComesAndTheEventsAfterItAreRestoredAgain() {
        SseRestorer restorer = new SseRestorer();
        String endless = "data: {\"choices\":[{\"delta\":{\"content\":\"" + "x".repeat(64 * 1024);
        StringBuilder out = new StringBuilder();
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < 40; i++) { // 2.5 MB of one event without its blank line
            String piece = i == 0 ? endless : "x".repeat(64 * 1024);
            sent.append(piece);
            out.append(restorer.accept(Buffer.buffer(piece)).toString(StandardCharsets.UTF_8));
            assertTrue(restorer.heldBytes() <= SseRestorer.MAX_HELD_EVENT, "held " + restorer.heldBytes());
        }
        assertTrue(out.length() > 0, "released before its blank line");
        String end = "\"}}],\"usage\":null}\r\n\r\n";
        String next = "data: {\"id\":\"c\",\"choices\":[],\"usage\":null}\n\n";
        out.append(restorer.accept(Buffer.buffer(end + next)).toString(StandardCharsets.UTF_8));
        out.append(restorer.finish().toString(StandardCharsets.UTF_8));
        assertEquals(
                sent + end + "data: {\"id\":\"c\",\"choices\":[]}\n\n",
                out.toString(),
                "the long event as it came, the next one restored");
    }
}
