package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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

    /** jtokkit's own tables, each loaded once for every test that compares with it. */
    private static final EncodingRegistry JTOKKIT = Encodings.newLazyEncodingRegistry();

    private static final List<String> TEXTS = List.of(
            "The quick brown fox jumps over the lazy dog. Please summarise the quarterly report for the board.",
            "Bitte fassen Sie den folgenden Quartalsbericht für den Vorstand zusammen, mit Schwerpunkt auf Umsatz.",
            "Veuillez résumer le rapport trimestriel suivant pour le conseil d'administration, s'il vous plaît.",
            "Пожалуйста, кратко изложите следующий квартальный отчёт для совета директоров.",
            "取締役会向けに次の四半期報告書を要約してください。请为董事会总结以下季度报告。",
            "public static void main(String[] args) {\n\tfor (int i = 0; i < 10; i++) { System.out.println(i); }\n}",
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}",
            "Numbers 1234567 and 3.14159, dates 2026-12-04, URLs https://example.com/a?b=c&d=e#f.",
            "  leading spaces, trailing ones   \r\n\r\n   and blank lines\n\n\n",
            "I'm sure they'll say we've done it; YOU'RE RIGHT, it's THEIR'S. 😀🙂👍🏽 emoji and ZWJ 👩‍💻");

    /** Random text in scripts the corpus does not cover, with spaces, digits and punctuation between. */
    private static List<String> randomTexts(long seed, int count) {
        Random random = new Random(seed);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(300);
            for (int c = 0; c < length; c++) {
                int pick = random.nextInt(10);
                text.appendCodePoint(
                        pick < 4
                                ? 'a' + random.nextInt(26)
                                : pick < 5 ? ' ' : pick < 6 ? '0' + random.nextInt(10) : 0x20 + random.nextInt(0x3000));
            }
            texts.add(text.toString());
        }
        return texts;
    }

    /**
     * A model name counts with the encoding jtokkit would give it, dated names included ({@code gpt-4-0613} is
     * cl100k_base, which counts many languages higher than o200k_base), and Azure's {@code gpt-35-turbo} as OpenAI's.
     */
    @Test
    void aModelNameCountsWithItsOwnEncodingWithoutLoadingOthers() {
        for (String model : new String[] {
            "gpt-4",
            "gpt-4-0613",
            "gpt-4-1106-preview",
            "gpt-4-turbo-2024-04-09",
            "gpt-4-32k-0613",
            "gpt-4o",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            "gpt-3.5-turbo-0125",
            "gpt-3.5-turbo-16k-0613",
            "text-davinci-003",
            "text-embedding-3-small",
            "chat-deployment"
        }) {
            String expected =
                    JTOKKIT.getEncodingForModel(model).map(Encoding::getName).orElse(EncodingType.O200K_BASE.getName());
            assertEquals(expected, TokenEstimator.encodingTypeOf(model).getName(), model);
        }
        assertEquals(EncodingType.CL100K_BASE, TokenEstimator.encodingTypeOf("gpt-35-turbo-0125"));
        assertEquals(EncodingType.CL100K_BASE, TokenEstimator.encodingTypeOf("gpt-35-turbo-16k"));
    }

    /** The pattern and the file read here are o200k_base's: with every rank kept, the counts are jtokkit's own. */
    @Test
    void withEveryRankTheHeldO200kCountsExactlyAsJtokkits() {
        Encoding whole = JTOKKIT.getEncoding(EncodingType.O200K_BASE);
        Encoding read = TokenEstimator.o200k(Integer.MAX_VALUE);
        List<String> texts = new ArrayList<>(TEXTS);
        texts.addAll(randomTexts(7, 300));
        for (String text : texts) {
            assertEquals(whole.countTokensOrdinary(text), read.countTokensOrdinary(text), text);
        }
    }

    /**
     * The table held is cut to its first ranks: a text may count more than with the whole table, never less, so an
     * estimate never lets through what the whole table would have charged. English and code count the same.
     */
    @Test
    void theHeldO200kNeverCountsLessThanTheWholeTable() {
        Encoding whole = JTOKKIT.getEncoding(EncodingType.O200K_BASE);
        Encoding held = TokenEstimator.encodingFor("deployment-" + UUID.randomUUID());
        assertEquals(held, TokenEstimator.encodingFor("gpt-4o"), "one o200k_base table, whichever name asks");
        List<String> texts = new ArrayList<>(TEXTS);
        texts.addAll(randomTexts(11, 2000));
        long more = 0;
        for (String text : texts) {
            int all = whole.countTokensOrdinary(text);
            int cut = held.countTokensOrdinary(text);
            assertTrue(cut >= all, "never less: " + cut + " < " + all + " for " + text);
            more += cut - all;
        }
        assertTrue(more > 0, "the table held is the cut one");
        for (String text : new String[] {TEXTS.get(0), TEXTS.get(5), TEXTS.get(6)}) {
            assertEquals(whole.countTokensOrdinary(text), held.countTokensOrdinary(text), text);
        }
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
