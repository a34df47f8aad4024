package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class TokenEstimatorTest {

    @Test
    void aModelCountsWithoutALoadOnlyOnceItsEncodingWasLookedUp() {
        // a deployment named after a model of another encoding (cl100k), and one no model table knows (o200k)
        for (String model : new String[] {"gpt-4", "deployment-" + UUID.randomUUID()}) {
            if (model.startsWith("deployment-")) {
                assertFalse(TokenEstimator.loadedFor(model), "a deployment never seen is not known to be ready");
            }
            long tokens = TokenEstimator.count("Say hello to the world", model);
            assertTrue(tokens > 0, model);
            assertTrue(TokenEstimator.loadedFor(model), model + " is ready after its first count");
        }
        assertFalse(TokenEstimator.loadedFor("deployment-" + UUID.randomUUID()));
    }

    /**
     * The tokenizer's control strings ({@code <|endoftext|>} and the like) in a prompt or an answer are text to the
     * backend, which bills them as such; jtokkit's {@code countTokens} refuses them with an exception instead, which
     * would fail every limited request that quotes one, or leave a cut stream that echoed one uncounted.
     */
    @Test
    void controlTokensInTextAreCountedAsTextNeverRefused() throws Exception {
        for (String model : new String[] {null, "gpt-4o", "gpt-4", "text-davinci-003"}) {
            for (String special : new String[] {"<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|im_start|>"}) {
                long plain = TokenEstimator.count("say ab", model);
                long quoted = TokenEstimator.count("say " + special, model);
                assertTrue(quoted > plain, model + ": " + special + " counts as the text it is: " + quoted);
            }
        }
        long prompt = prompt("{\"messages\":[{\"role\":\"user\",\"content\":\"what does <|endoftext|> mean?\"}]}");
        assertTrue(prompt > 7, "a prompt quoting a control token is estimated: " + prompt);
    }

    static long prompt(String json) throws Exception {
        return TokenEstimator.prompt(
                (com.fasterxml.jackson.databind.node.ObjectNode)
                        new com.fasterxml.jackson.databind.ObjectMapper().readTree(json),
                "gpt-4o");
    }

    /** Everything the model reads as prompt counts, not only the messages' text. */
    @Test
    void toolsSchemasImagesAndToolCallsCountAsPrompt() throws Exception {
        String messages = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        long bare = prompt("{" + messages + "}");
        String schema = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"," + "\"description\":\""
                + "the name of a city anywhere in the world ".repeat(50) + "\"}}}";
        long withTools = prompt("{" + messages + ",\"tools\":[{\"type\":\"function\",\"function\":{"
                + "\"name\":\"weather\",\"parameters\":" + schema + "}}]}");
        assertTrue(withTools > bare + 400, bare + " -> " + withTools);
        long withFormat = prompt("{" + messages + ",\"response_format\":{\"type\":\"json_schema\","
                + "\"json_schema\":{\"name\":\"x\",\"schema\":" + schema + "}}}");
        assertTrue(withFormat > bare + 400, bare + " -> " + withFormat);
        long withImage = prompt("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                + "\"text\":\"hi\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}]}");
        assertTrue(withImage >= bare + TokenEstimator.PER_IMAGE, bare + " -> " + withImage);
        long withCalls = prompt("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\","
                + "\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"weather\","
                + "\"arguments\":\"" + "{\\\"city\\\":\\\"Paris\\\"}".repeat(40) + "\"}}]}]}");
        assertTrue(withCalls > bare + 100, bare + " -> " + withCalls);
        long responsesCalls = prompt("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c1\","
                + "\"output\":\"" + "sunny and warm ".repeat(100) + "\"}]}");
        assertTrue(responsesCalls > 150, "a function's output is prompt: " + responsesCalls);
    }

    /** A huge prompt is counted exactly up to a bound and charged at the rate seen beyond it, never skipped. */
    @Test
    void aHugePromptIsBoundedInWorkNotInCharge() {
        String sentence = "The quick brown fox jumps over the lazy dog. ";
        String big = sentence.repeat(1_000_000 / sentence.length());
        long exactPerSentence = TokenEstimator.count(sentence, "gpt-4o");
        TokenEstimator.Counting counting = new TokenEstimator.Counting(TokenEstimator.encodingFor("gpt-4o"));
        long total = counting.countTokens(big) + counting.extrapolated();
        assertTrue(counting.counted() <= TokenEstimator.EXACT_CHARS, "counted " + counting.counted());
        long expected = exactPerSentence * (big.length() / sentence.length());
        assertTrue(Math.abs(total - expected) < expected / 10, total + " vs " + expected);
        // a run the tokenizer cannot split still costs at least what its counted part showed, all the way
        String run = "x".repeat(1_000_000);
        TokenEstimator.Counting solid = new TokenEstimator.Counting(TokenEstimator.encodingFor("gpt-4o"));
        long charged = solid.countTokens(run) + solid.extrapolated();
        assertTrue(charged >= 1_000_000 / 16, "charged " + charged);
    }

    /** Cheap text first must not set the price of what follows it. */
    @Test
    void cheapTextFirstDoesNotPriceTheRest() {
        java.util.Random random = new java.util.Random(7);
        StringBuilder letters = new StringBuilder();
        while (letters.length() < 480_000) {
            letters.append((char) ('a' + random.nextInt(26)));
        }
        String expensive = letters.toString();
        TokenEstimator.Counting alone = new TokenEstimator.Counting(TokenEstimator.encodingFor("gpt-4o"));
        long fair = alone.countTokens(expensive) + alone.extrapolated();
        TokenEstimator.Counting padded = new TokenEstimator.Counting(TokenEstimator.encodingFor("gpt-4o"));
        long charged = padded.countTokens(" ".repeat(8192)) + padded.countTokens(expensive) + padded.extrapolated();
        assertTrue(charged > fair / 2, "charged " + charged + " for what alone is " + fair);
        // and whatever comes first, nothing skipped is charged below the floor
        TokenEstimator.Counting cheap = new TokenEstimator.Counting(TokenEstimator.encodingFor("gpt-4o"));
        long spaces = cheap.countTokens(" ".repeat(1_000_000)) + cheap.extrapolated();
        assertTrue(
                spaces >= (1_000_000 - TokenEstimator.EXACT_CHARS) / TokenEstimator.FLOOR_CHARS_PER_TOKEN, "" + spaces);
    }
}
