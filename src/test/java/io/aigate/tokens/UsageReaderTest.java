package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UsageReaderTest {

    static Usage read(String contentType, String body, long seed) {
        return fed(contentType, body, seed).finish();
    }

    /** A reader that has seen the whole body, in chunks split anywhere. */
    static UsageReader fed(String contentType, String body, long seed) {
        UsageReader reader = UsageReader.of(UsageReader.kindOf(contentType));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        Random random = new Random(seed);
        int at = 0;
        while (at < bytes.length) { // chunks split anywhere, as TCP delivers them
            int n = Math.min(bytes.length - at, 1 + random.nextInt(40));
            reader.accept(Buffer.buffer().appendBytes(bytes, at, n));
            at += n;
        }
        return reader;
    }

    @Test
    void chatCompletionsWithDetails() {
        String body = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"{\\\"usage\\\":{}}\"}}],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":4},\"completion_tokens_details\":{\"reasoning_tokens\":2}},"
                + "\"prompt_filter_results\":[]}";
        assertEquals(new Usage(12, 7, 19, 4, 2), read("application/json; charset=utf-8", body, 1));
    }

    @Test
    void embeddingsAndTheResponsesApi() {
        assertEquals(
                new Usage(8, 0, 8, -1, -1),
                read(
                        "application/json",
                        "{\"data\":[{\"embedding\":[0.1,0.2]}],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}",
                        2));
        assertEquals(
                new Usage(30, 11, 41, 10, 5),
                read(
                        "application/json",
                        "{\"object\":\"response\",\"output\":[],\"usage\":{\"input_tokens\":30,\"input_tokens_details\":"
                                + "{\"cached_tokens\":10},\"output_tokens\":11,\"output_tokens_details\":{\"reasoning_tokens\":5},"
                                + "\"total_tokens\":41}}",
                        3));
    }

    @Test
    void streamsAreReadEventByEventHoweverTheyAreChunked() {
        String stream = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\r\n\r\n"
                + "data: {\"choices\":[{\"delta\":{}}],\"usage\":null}\n\n"
                + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19}}\n\n"
                + "data: [DONE]\n\n";
        for (long seed = 0; seed < 20; seed++) {
            assertEquals(new Usage(12, 7, 19, -1, -1), read("text/event-stream; charset=utf-8", stream, seed));
        }
        assertEquals(
                new Usage(5, 3, 8, -1, -1),
                read(
                        "text/event-stream",
                        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n"
                                + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r\","
                                + "\"usage\":{\"input_tokens\":5,\"output_tokens\":3,\"total_tokens\":8}}}\n\n",
                        4));
    }

    @Test
    void aUsageThatCannotBeBelievedCountsAsNoneAndIsEstimated() {
        for (String usage : new String[] {
            "\"prompt_tokens\":-12,\"completion_tokens\":7,\"total_tokens\":19", // negative
            "\"prompt_tokens\":12,\"completion_tokens\":7.5,\"total_tokens\":19", // fractional
            "\"prompt_tokens\":12,\"completion_tokens\":\"7\",\"total_tokens\":19", // quoted
            "\"prompt_tokens\":12,\"completion_tokens\":null,\"total_tokens\":19", // null
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":1", // less than its parts
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"completion_tokens\":0,\"total_tokens\":19", // twice
            "\"input_tokens\":12,\"prompt_tokens\":0,\"output_tokens\":7,\"total_tokens\":19", // two names
            "\"prompt_tokens\":12,\"completion_tokens\":9000000000000000000,\"total_tokens\":19", // absurd
            "\"prompt_tokens\":12,\"completion_tokens\":99999999999999999999999,\"total_tokens\":19", // past long
            "\"prompt_tokens\":12,\"completion_tokens\":{\"n\":7},\"total_tokens\":19", // an object
            // the parts in its details, by the same rules, and never more than their whole
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                    + "\"prompt_tokens_details\":{\"cached_tokens\":-4}}",
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                    + "\"prompt_tokens_details\":{\"cached_tokens\":4.5}}",
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                    + "\"prompt_tokens_details\":{\"cached_tokens\":13}}",
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                    + "\"completion_tokens_details\":{\"reasoning_tokens\":9000000000000000000}}",
            "\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19,"
                    + "\"completion_tokens_details\":{\"reasoning_tokens\":2,\"reasoning_tokens\":1}}"
        }) {
            String json = "{\"choices\":[],\"usage\":{" + usage + "}}";
            for (UsageReader reader : new UsageReader[] {
                fed("application/json", json, 3), fed("text/event-stream", "data: " + json + "\n\ndata: [DONE]\n\n", 4)
            }) {
                assertNull(reader.finish(), json);
                assertTrue(reader.distrusted(), "said so, for the metric: " + json);
            }
        }
        assertFalse(fed("application/json", "{\"choices\":[]}", 1).distrusted(), "no usage is not a doubtful one");
        // at the bound, and with details beside the counts, it is believed
        assertEquals(
                new Usage(12, 999_999_988L, 1_000_000_000L, 4, -1),
                read(
                        "application/json",
                        "{\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":999999988,\"total_tokens\":"
                                + "1000000000,\"prompt_tokens_details\":{\"cached_tokens\":4}}}",
                        5));
    }

    @Test
    void noUsageMeansNullNotZero() {
        assertNull(
                read(
                        "text/event-stream",
                        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n" + "data: [DONE]\n\n",
                        5),
                "a stream without include_usage");
        assertNull(
                read(
                        "text/event-stream",
                        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n",
                        6),
                "a stream cut before its usage chunk");
        assertNull(read("application/json", "{\"usage\":{\"prompt_tokens\":", 7), "truncated JSON");
        assertNull(read("application/json", "not json", 8));
        assertNull(UsageReader.of(UsageReader.kindOf("audio/mpeg")));
        UsageReader cut = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        cut.accept(Buffer.buffer("data: {\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":"
                + "{\"role\":\"assistant\",\"content\":\"Hello\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":"
                + "\" world\"}}]}\n\n"));
        assertNull(cut.finish());
        assertEquals("gpt-4o-2024-08-06", cut.model());
        assertEquals(2, cut.streamedTokens("gpt-4o"), "Hello world");
    }

    @Test
    void aJsonAnswerOfAnySizeIsCountedWithoutBeingHeld() {
        String body = "{\"id\":\"x\",\"choices\":[{\"message\":{\"content\":\"" + "word ".repeat(1_200_000)
                + "\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1200000,\"total_tokens\":1200005,"
                + "\"completion_tokens_details\":{\"reasoning_tokens\":3}}}";
        assertTrue(body.length() > 5_000_000);
        assertEquals(new Usage(5, 1_200_000, 1_200_005, -1, 3), read("application/json", body, 42));
        // nested under response (Responses API), and a usage deeper down is not the answer's
        assertEquals(
                new Usage(2, 3, 5, -1, -1),
                read(
                        "application/json",
                        "{\"data\":[{\"usage\":{\"total_tokens\":99}}],\"response\":{\"usage\":{\"input_tokens\":2,"
                                + "\"output_tokens\":3,\"total_tokens\":5}}}",
                        43));
    }

    @Test
    void aStreamWithoutUsageIsEstimatedFromEverythingTheModelGenerated() {
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        String args = "{\\\"city\\\":\\\"Stockholm and the whole archipelago\\\"}";
        reader.accept(
                Buffer.buffer(
                        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,"
                                + "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\""
                                + args + "\"}}]}}]}\n\n"
                                + "data: {\"choices\":[{\"delta\":{\"refusal\":\"I cannot help with that request today\"}}]}\n\n"
                                + "data: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"thinking it over\"}\n\n"));
        assertNull(reader.finish());
        long tokens = reader.streamedTokens("gpt-4o");
        long expected = TokenEstimator.count("{\"city\":\"Stockholm and the whole archipelago\"}", "gpt-4o")
                + TokenEstimator.count("I cannot help with that request today", "gpt-4o")
                + TokenEstimator.count("thinking it over", "gpt-4o");
        assertEquals(expected, tokens);
        assertTrue(tokens > 15, "tool-call arguments, refusals and reasoning all count: " + tokens);
    }

    /** A model that writes the tokenizer's control strings (explaining them, or made to) is still counted. */
    @Test
    void aStreamThatWritesControlTokensIsCountedAsItPasses() {
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        TokenEstimator.count("warm", "gpt-4o"); // loaded, so the reader counts as the text passes
        String chunk = "data: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\""
                + "<|endoftext|> ".repeat(100) + "\"}}]}\n\n";
        for (int i = 0; i < 20; i++) { // past the reader's 16 KB counting step
            reader.accept(Buffer.buffer(chunk));
        }
        assertNull(reader.finish());
        long tokens = reader.streamedTokens("gpt-4o");
        assertTrue(tokens >= 20 * 100 * 5, "every control string counts as the text it is: " + tokens);
    }

    @Test
    void aCompletionsStreamIsEstimatedFromTheTextOfItsChoices() {
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        reader.accept(Buffer.buffer("data: {\"choices\":[{\"index\":0,\"text\":\"Once upon a time\","
                + "\"finish_reason\":null,\"logprobs\":null}]}\n\ndata: [DONE]\n\n"));
        assertNull(reader.finish());
        assertEquals(TokenEstimator.count("Once upon a time", "gpt-4o"), reader.streamedTokens("gpt-4o"));
    }

    @Test
    void theModelAndFinishReasonsAreReadForTracesAsPlainWordsOnly() {
        UsageReader json = UsageReader.of(UsageReader.kindOf("application/json"));
        json.accept(Buffer.buffer("{\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"finish_reason\":\"stop\","
                + "\"message\":{\"content\":\"finish_reason\"}},{\"finish_reason\":\"length\"}],"
                + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}"));
        json.finish();
        assertEquals("gpt-4o-2024-08-06", json.model());
        assertEquals(java.util.List.of("stop", "length"), json.finishReasons());

        UsageReader stream = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        stream.accept(Buffer.buffer("data: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},"
                + "\"finish_reason\":null}]}\n\ndata: {\"model\":\"gpt-4o\",\"choices\":[{\"delta\":{},"
                + "\"finish_reason\":\"content_filter\"}]}\n\n"));
        assertEquals("gpt-4o", stream.model());
        assertEquals(java.util.List.of("content_filter"), stream.finishReasons());

        UsageReader hostile = UsageReader.of(UsageReader.kindOf("application/json"));
        hostile.accept(Buffer.buffer("{\"model\":\"gpt\\n{\\\"forged\\\":1}\",\"choices\":[" + "{\"finish_reason\":\""
                + "x".repeat(65) + "\"}]}"));
        hostile.finish();
        assertNull(hostile.model(), "a model name that is not a plain word is not kept");
        assertTrue(hostile.finishReasons().isEmpty());
    }

    /** What an image stream sends last: megabytes of base64 and the usage, on one line. */
    static String imageCompleted(int base64Bytes) {
        return "event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\""
                + "QUJD".repeat(base64Bytes / 4)
                + "\",\"usage\":{\"input_tokens\":50,\"output_tokens\":4160,\"total_tokens\":4210}}\n\n";
    }

    @Test
    void aUsageOnOneLineWithAManyMegabyteImageIsStillRead() {
        String stream = "event: image_generation.partial_image\ndata: {\"type\":\"image_generation.partial_image\","
                + "\"b64_json\":\"" + "QUJD".repeat(1 << 18) + "\"}\n\n" + imageCompleted(6 << 20);
        UsageReader reader = UsageReader.of(UsageReader.kindOf("text/event-stream"));
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at < bytes.length; at += 64 * 1024) { // as a backend's chunks come
            reader.accept(Buffer.buffer().appendBytes(bytes, at, Math.min(64 * 1024, bytes.length - at)));
        }
        assertEquals(new Usage(50, 4160, 4210, -1, -1), reader.finish());
    }

    @Test
    void aJsonAnswerWithAStringPastJacksonsDefaultBoundStillHasItsUsageRead() {
        // Jackson's default would buffer up to 20 M characters of one string, then give up on the answer
        String body = "{\"data\":[{\"b64_json\":\"" + "QUJD".repeat(21 << 18) + "\"}],"
                + "\"usage\":{\"input_tokens\":9,\"output_tokens\":272,\"total_tokens\":281}}";
        UsageReader reader = UsageReader.of(UsageReader.kindOf("application/json"));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        for (int at = 0; at < bytes.length; at += 1 << 20) {
            reader.accept(Buffer.buffer().appendBytes(bytes, at, Math.min(1 << 20, bytes.length - at)));
        }
        assertEquals(new Usage(9, 272, 281, -1, -1), reader.finish());
    }

    @Test
    void aCutStringIsStillWellFormedJsonWhereverTheCutFallsAndTheStructureAroundItPasses() {
        int kept = JsonUsageScanner.KEPT_STRING_BYTES;
        // an escape, a \\u escape, a surrogate pair and multibyte characters straddling the cut; the value after it
        String text = "x".repeat(kept - 3) + "\\\"\\u00e9\\ud83d\\ude00\u00e9\u20ac" + "\\\\".repeat(kept);
        String json = "{\"a\":\"" + text + "\",\"b\":[1,{\"c\":\"d\"}]}";
        byte[] in = json.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < 40; split += 7) {
            JsonUsageScanner.LongStrings strings = new JsonUsageScanner.LongStrings();
            byte[] out = new byte[in.length];
            byte[] rest = new byte[in.length];
            int cut = kept - 10 + split; // fed in two pieces, split near the bound
            int n = strings.keep(in, 0, cut, out);
            int m = strings.keep(in, cut, in.length, rest);
            System.arraycopy(rest, 0, out, n, m);
            n += m;
            io.vertx.core.json.JsonObject read =
                    new io.vertx.core.json.JsonObject(new String(out, 0, n, StandardCharsets.UTF_8));
            assertTrue(read.getString("a").length() <= kept, "cut to its bound");
            assertTrue(read.getString("a").startsWith("x".repeat(kept - 3)));
            assertEquals("d", read.getJsonArray("b").getJsonObject(1).getString("c"), "what follows passes whole");
        }
    }
}
