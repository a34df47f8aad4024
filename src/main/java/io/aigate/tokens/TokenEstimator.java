package io.aigate.tokens;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import com.knuddels.jtokkit.api.ModelType;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;

/**
 * Token counts from text with the model's own tokenizer (jtokkit): for what the backend did not report (a stream cut
 * before its usage event), and for what a request will cost before it is sent (the token limit's reservation).
 * Unknown models (Azure deployments have their own names) use o200k_base, the GPT-4o family's.
 */
public final class TokenEstimator {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    /**
     * o200k_base is held cut to its first ranks: 12 MB of heap instead of 26. Byte-pair merging with the first ranks
     * only is the same merging stopped earlier, so a text can only count more, never less: English and code count the
     * same, other languages 5-28 % more (docs/benchmarks.md). An estimate sets a reservation aside until the backend's
     * usage settles it, and it charges a stream cut before its usage: too high there is safe, too low is not.
     */
    static final int O200K_RANKS_KEPT = 100_000;

    private static final String O200K_FILE = "/com/knuddels/jtokkit/o200k_base.tiktoken";

    /**
     * o200k_base's pre-tokenising pattern as tiktoken defines it and jtokkit compiles it; TokenEstimatorTest checks
     * that with every rank kept it counts exactly as jtokkit's own o200k_base.
     */
    private static final Pattern O200K_PATTERN = Pattern.compile(
            String.join(
                    "|",
                    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
                            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
                    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
                            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
                    "\\p{N}{1,3}",
                    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*",
                    "\\s*[\\r\\n]+",
                    "\\s+(?!\\S)",
                    "\\s+"),
            Pattern.UNICODE_CHARACTER_CLASS);

    private static volatile Encoding o200k;
    /** OpenAI's chat format adds about this many tokens per message, and this many to prime the answer. */
    private static final int PER_MESSAGE = 4;

    /** The fields of a function call and its output item that are prompt too. */
    private static final String[] CALL_TEXT = {"arguments", "output"};

    private static final int PRIMING = 3;

    private TokenEstimator() {}

    /**
     * The encodings already looked up, by model ("" for none): a model found here counts without a load. Bounded,
     * because deployment and model names come from callers and backends; past the bound a model is merely looked up
     * again, on a worker.
     */
    private static final Map<String, Encoding> READY = new ConcurrentHashMap<>();

    private static final int MAX_READY = 1024;
    /** Models whose encoding is being looked up in the background, so each is asked for once. */
    private static final Set<String> LOADING = ConcurrentHashMap.newKeySet();

    /**
     * One daemon thread looks encodings up (each takes about 0.5 s and up to 14 MB of heap the first time): loaded by
     * a request instead, it would hold that request's event loop, and every request behind it.
     */
    private static final Executor LOADER = Executors.newSingleThreadExecutor(task -> {
        Thread loader = new Thread(task, "aigate-tokenizer-load");
        loader.setDaemon(true);
        return loader;
    });

    /** Loads the default encoding (o200k_base) in the background, once. */
    static void preloadInBackground() {
        loadInBackground(null);
    }

    /** Looks this model's encoding up in the background unless it is ready or already asked for. */
    static void loadInBackground(String model) {
        String key = model == null ? "" : model;
        if (!READY.containsKey(key) && READY.size() < MAX_READY && LOADING.add(key)) {
            LOADER.execute(() -> {
                try {
                    encodingFor(model);
                } finally {
                    LOADING.remove(key);
                }
            });
        }
    }

    /**
     * Whether counting for {@code model} is quick now, or may first load its encoding (each of jtokkit's encodings
     * takes a fraction of a second the first time, whichever model asks for it).
     */
    static boolean loadedFor(String model) {
        return READY.containsKey(model == null ? "" : model);
    }

    static Encoding encodingFor(String model) {
        String key = model == null ? "" : model;
        Encoding ready = READY.get(key);
        if (ready != null) {
            return ready;
        }
        EncodingType type = encodingTypeOf(model);
        Encoding encoding = type == EncodingType.O200K_BASE ? o200k() : REGISTRY.getEncoding(type);
        if (READY.size() < MAX_READY) {
            READY.put(key, encoding);
        }
        return encoding;
    }

    /** Prefixes tried in this order when no model has the exact name: jtokkit's own rule, and Azure's spelling. */
    private static final ModelType[] BY_PREFIX = {
        ModelType.GPT_4O, ModelType.GPT_4_32K, ModelType.GPT_4, ModelType.GPT_3_5_TURBO_16K, ModelType.GPT_3_5_TURBO
    };

    /**
     * The encoding a model name counts with, without loading any: jtokkit's {@code getEncodingForModel} rule (the
     * exact name, else the first of {@link #BY_PREFIX} it starts with), with Azure's {@code gpt-35-turbo} read as
     * {@code gpt-3.5-turbo}; o200k_base when none fits. A dated name ({@code gpt-4-0613}) must count with its own
     * encoding: o200k_base counts many languages lower than cl100k_base does.
     */
    static EncodingType encodingTypeOf(String model) {
        if (model == null) {
            return EncodingType.O200K_BASE;
        }
        String name = model.startsWith("gpt-35") ? "gpt-3.5" + model.substring("gpt-35".length()) : model;
        Optional<ModelType> exact = ModelType.fromName(name);
        if (exact.isPresent()) {
            return exact.get().getEncodingType();
        }
        for (ModelType prefix : BY_PREFIX) {
            if (name.startsWith(prefix.getName())) {
                return prefix.getEncodingType();
            }
        }
        return EncodingType.O200K_BASE;
    }

    private static Encoding o200k() {
        Encoding held = o200k;
        if (held == null) {
            synchronized (TokenEstimator.class) {
                held = o200k;
                if (held == null) {
                    o200k = held = o200k(O200K_RANKS_KEPT);
                }
            }
        }
        return held;
    }

    /**
     * o200k_base with its first {@code ranksKept} ranks, read from jtokkit's own copy of it and merged by jtokkit.
     * Read line by line, keeping only those ranks, so the whole table is never built on the way.
     */
    static Encoding o200k(int ranksKept) {
        Map<byte[], Integer> ranks = new HashMap<>();
        InputStream file = Encodings.class.getResourceAsStream(O200K_FILE);
        if (file == null) {
            throw new IllegalStateException(O200K_FILE + " is missing from the class path");
        }
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(file, StandardCharsets.US_ASCII))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                int space = line.indexOf(' ');
                int rank = Integer.parseInt(line.substring(space + 1));
                if (rank < ranksKept) {
                    ranks.put(Base64.getDecoder().decode(line.substring(0, space)), rank);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String name = "o200k_base-" + ranksKept;
        return Encodings.newLazyEncodingRegistry()
                .registerGptBytePairEncoding(new GptBytePairEncodingParams(name, O200K_PATTERN, ranks, Map.of()))
                .getEncoding(name)
                .orElseThrow();
    }

    public static long count(String text, String model) {
        if (text == null || text.isEmpty()) {
            return 0;
        }
        Counting counting = new Counting(encodingFor(model));
        return counting.countTokens(text) + counting.extrapolated();
    }

    /**
     * What a request asks of the model before it is sent: its prompt (counted with the tokenizer when asked to), the
     * completion each choice may write (-1 when the request sets no maximum) and how many choices are generated.
     */
    public record Demand(long promptTokens, long maxCompletionTokens, int choices) {
        static final Demand NONE = new Demand(0, -1, 1);
    }

    /** The fields that bound a completion, and the most each may say (beyond it a request is not one aigate judges). */
    private static final String[] MAXIMA = {"max_completion_tokens", "max_tokens", "max_output_tokens"};

    private static final String[] CHOICES = {"n", "best_of"};
    static final long MAX_FIELD_VALUE = Integer.MAX_VALUE;
    static final int MAX_CHOICES = 128;

    /**
     * Why a body's numbers cannot be judged, or null. A maximum must be a whole number from 0 to 2^31-1, {@code n}
     * and {@code best_of} from 1 to 128 (null means unset): a negative, fractional, quoted or absurd value is refused
     * rather than read one way here and another at the backend.
     */
    public static String invalidNumbers(ObjectNode request) {
        for (String field : MAXIMA) {
            if (!wholeIn(request.get(field), 0, MAX_FIELD_VALUE)) {
                return field + " must be a whole number from 0 to " + MAX_FIELD_VALUE + ".";
            }
        }
        for (String field : CHOICES) {
            if (!wholeIn(request.get(field), 1, MAX_CHOICES)) {
                return field + " must be a whole number from 1 to " + MAX_CHOICES + ".";
            }
        }
        return null;
    }

    private static boolean wholeIn(JsonNode value, long min, long max) {
        if (value == null || value.isNull()) {
            return true;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            return false;
        }
        long v = value.longValue();
        return v >= min && v <= max;
    }

    /** The prompt of a request: chat messages, a Responses or embeddings input, or a completions prompt; 0 if none. */
    public static long prompt(ObjectNode request, String model) {
        return request == null ? 0 : promptOf(request, model);
    }

    /** @param request a body {@link #invalidNumbers} accepted, or null when the request has no JSON body */
    public static Demand demand(ObjectNode request, String model, boolean countPrompt) {
        if (request == null) {
            return Demand.NONE;
        }
        // the largest maximum counts: which one a backend honours when several are set is the backend's business
        long max = -1;
        for (String field : MAXIMA) {
            JsonNode value = request.get(field);
            if (value != null && value.isIntegralNumber()) {
                max = Math.max(max, Math.min(MAX_FIELD_VALUE, Math.max(0, value.longValue())));
            }
        }
        // n choices (or best_of candidates, generated and billed though only the best is returned) each write up to it
        int choices = 1;
        for (String field : CHOICES) {
            JsonNode value = request.get(field);
            if (value != null && value.isIntegralNumber()) {
                choices = (int) Math.max(choices, Math.min(MAX_CHOICES, Math.max(1, value.longValue())));
            }
        }
        return new Demand(countPrompt ? promptOf(request, model) : 0, max, choices);
    }

    /**
     * What the backend counts as prompt besides the messages: tool and function definitions (their schemas are sent to
     * the model as text), the structured-output schema, a forced tool. Counted as the JSON they are, which the model's
     * own rendering is close to; leaving them out would let a caller whose answer's usage is unknown be charged for a
     * few words of a prompt that carried kilobytes of schema.
     */
    private static final String[] DEFINITIONS = {"tools", "functions", "response_format", "text", "tool_choice"};
    /**
     * An image part, whatever its size: OpenAI's high-detail rule caps an image at 768 x 2048 scaled, which is at most
     * 85 + 170 x 6 tokens; the base64 bytes are not its tokens.
     */
    static final long PER_IMAGE = 1105;
    /** Audio input is about ten tokens a second; as 16 kHz 16-bit PCM, a second is ~43,000 base64 characters. */
    private static final long AUDIO_BASE64_PER_TOKEN = 4300;

    /** Characters one estimate counts exactly; past them, the rest is extrapolated at the rate seen so far. */
    static final int EXACT_CHARS = 8 * 1024;
    /**
     * A run without spaces (random letters, CJK) is one piece to the tokenizer, whose pattern backtracks over it: its
     * cost grows with the square of the piece. 64 characters keep it linear at a negligible change in the count.
     */
    private static final int PIECE = 64;
    /** Past the exact part, about one piece in this many is counted as a sample (at most EXACT_CHARS of them). */
    private static final int SAMPLE_ONE_IN = 16;
    /**
     * The least a skipped character is charged, whatever the samples say: below the rate of any prose (English runs
     * about four characters a token), so it only ever lifts text the samples happened to find cheap.
     */
    static final double FLOOR_CHARS_PER_TOKEN = 8.0;

    /**
     * Counting for one request's estimate, bounded in CPU whatever the body holds: text is counted in pieces of at most
     * {@link #PIECE} characters, and at most {@link #EXACT_CHARS} of it exactly; the rest is charged at the rate the
     * counted part showed. With Dockerfile.jvm's flags, a 1 MB prompt costs about 10 ms (CJK, the slowest), 5 ms
     * (random letters) and 2 ms (English); counted uncut, the same CJK prompt ran the 96 MB heap out of memory.
     */
    static final class Counting {
        private final Encoding encoding;
        private long counted;
        private long skipped;
        private long exact;
        private long sampledChars;
        private long sampledTokens;

        Counting(Encoding encoding) {
            this.encoding = encoding;
        }

        long countTokens(String text) {
            long tokens = 0;
            for (int start = 0; start < text.length(); ) {
                int end = Math.min(text.length(), start + PIECE);
                if (end < text.length()) {
                    // cut before a space where there is one, as the tokenizer's own pieces are (" word"): a word cut
                    // in two would count a token more; only a run without spaces is cut where it stands
                    int space = spaceAfter(text, start + PIECE / 2, end);
                    if (space > 0) {
                        end = space;
                    } else if (Character.isHighSurrogate(text.charAt(end - 1))) {
                        end--; // never split a pair
                    }
                }
                if (counted + (end - start) <= EXACT_CHARS) {
                    tokens += count(text.substring(start, end));
                    counted += end - start;
                } else {
                    skipped += end - start;
                    // a sample of what was skipped, at places the caller cannot know: its rate is charged if higher,
                    // so cheap text put first does not set the price of what follows
                    if (sampledChars + (end - start) <= EXACT_CHARS
                            && java.util.concurrent.ThreadLocalRandom.current().nextInt(SAMPLE_ONE_IN) == 0) {
                        sampledTokens += count(text.substring(start, end));
                        sampledChars += end - start;
                    }
                }
                start = end;
            }
            exact += tokens;
            return tokens;
        }

        /**
         * Ordinary counting: a control string such as {@code <|endoftext|>} in a caller's text is text to the backend,
         * billed as such, where jtokkit's {@code countTokens} would refuse it with an exception.
         */
        private int count(String piece) {
            return encoding.countTokensOrdinary(piece);
        }

        /**
         * The last space in {@code (from, to]}, or -1. Looked for in that window only: {@code lastIndexOf} would scan a
         * run without spaces back to its start for every piece, which is the quadratic cost pieces exist to avoid.
         */
        private static int spaceAfter(String text, int from, int to) {
            for (int i = to; i > from; i--) {
                if (text.charAt(i) == ' ') {
                    return i;
                }
            }
            return -1;
        }

        long counted() {
            return counted;
        }

        /**
         * What the skipped characters are charged: the highest of the counted part's rate, the sampled rate and one
         * token per {@link #FLOOR_CHARS_PER_TOKEN} characters, so no arrangement of a prompt is
         * charged less than that.
         */
        long extrapolated() {
            if (skipped == 0) {
                return 0;
            }
            double rate = 1.0 / FLOOR_CHARS_PER_TOKEN;
            if (counted > 0) {
                rate = Math.max(rate, (double) exact / counted);
            }
            if (sampledChars > 0) {
                rate = Math.max(rate, (double) sampledTokens / sampledChars);
            }
            return (long) Math.ceil(skipped * rate);
        }
    }

    private static long promptOf(JsonNode request, String model) {
        Counting encoding = new Counting(encodingFor(model));
        long tokens = 0;
        JsonNode messages = request.path("messages");
        if (messages.isArray()) {
            tokens += PRIMING;
            for (JsonNode message : messages) {
                tokens += PER_MESSAGE + message(message, encoding);
            }
        }
        // the Responses API (a string or a list of message items), embeddings (a string or a list), completions
        tokens += text(request.path("instructions"), encoding);
        tokens += items(request.path("input"), encoding);
        tokens += items(request.path("prompt"), encoding);
        for (String field : DEFINITIONS) {
            JsonNode value = request.get(field);
            if (value != null && (value.isContainerNode() || (value.isTextual() && !"tool_choice".equals(field)))) {
                tokens += encoding.countTokens(value.toString());
            }
        }
        return tokens + encoding.extrapolated();
    }

    /** A message's content, plus what else it carries to the model: its name, and an assistant's tool calls. */
    private static long message(JsonNode message, Counting encoding) {
        long tokens = text(message.path("content"), encoding);
        if (message.path("name").isTextual()) {
            tokens += encoding.countTokens(message.path("name").asText());
        }
        JsonNode calls = message.path("tool_calls");
        if (calls.isArray() && !calls.isEmpty()) {
            tokens += encoding.countTokens(calls.toString());
        }
        JsonNode call = message.path("function_call");
        if (call.isObject()) {
            tokens += encoding.countTokens(call.toString());
        }
        return tokens;
    }

    private static long items(JsonNode input, Counting encoding) {
        if (!input.isArray()) {
            return text(input, encoding);
        }
        long tokens = 0;
        for (JsonNode item : input) {
            if (item.isNumber()) {
                tokens++; // embeddings accept the tokens themselves
            } else if (item.isArray() && item.size() > 0 && item.get(0).isNumber()) {
                tokens += item.size();
            } else if (item.isObject()) {
                // a message item, or a function call or its output (their arguments and output are prompt too)
                tokens += PER_MESSAGE + message(item, encoding);
                for (String field : CALL_TEXT) {
                    if (item.path(field).isTextual()) {
                        tokens += encoding.countTokens(item.path(field).asText());
                    }
                }
            } else {
                tokens += text(item, encoding);
            }
        }
        return tokens;
    }

    /** A string, or a list of content parts: text counted, an image at its most, audio by its length. */
    private static long text(JsonNode content, Counting encoding) {
        if (content.isTextual()) {
            return encoding.countTokens(content.asText());
        }
        long tokens = 0;
        if (content.isArray()) {
            for (JsonNode part : content) {
                if (part.isTextual()) {
                    tokens += encoding.countTokens(part.asText());
                } else if (part.path("text").isTextual()) {
                    tokens += encoding.countTokens(part.path("text").asText());
                } else {
                    tokens += media(part);
                }
            }
        }
        return tokens;
    }

    private static long media(JsonNode part) {
        String type = part.path("type").asText("");
        if (type.contains("image") || part.has("image_url")) {
            return PER_IMAGE;
        }
        JsonNode audio = part.path("input_audio").path("data");
        if (audio.isTextual()) {
            return 1 + audio.asText().length() / AUDIO_BASE64_PER_TOKEN;
        }
        return 0;
    }
}
