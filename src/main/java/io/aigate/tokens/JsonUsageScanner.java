package io.aigate.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Reads the usage of a JSON answer as its bytes pass, with Jackson's non-blocking parser: no answer is held, so an
 * answer of any size is counted (a size cap would be a way around the budget). The usage object is the top-level
 * {@code usage} (chat, completions, embeddings) or {@code response.usage} (Responses API); the last one wins.
 *
 * <p>A usage is believed only when each count in it (the cached and reasoning parts of its details too) is a whole
 * number from 0 to {@link #MOST_TOKENS}, written once, the total is at least prompt plus completion, and no part is
 * larger than its whole: anything else (negative, fractional, quoted, repeated, absurd) would charge a budget less than
 * the answer cost, or more than it ever could, or skew the metrics, so such an answer is counted as if it reported
 * nothing.
 *
 * <p>What it holds is bounded whatever the backend sends: of each string (a base64 image, a giant delta) only the first
 * {@link #KEPT_STRING_BYTES} bytes reach the parser ({@link LongStrings}), so a usage next to a many-megabyte image on
 * one line is still read, and Jackson never buffers the 20 M characters its defaults allow; nesting past
 * {@link #MAX_DEPTH} and numbers longer than {@link #MAX_NUMBER_LENGTH} make the answer unreadable (its usage is then
 * unknown, charged as at least the reservation).
 */
final class JsonUsageScanner {

    /** Of each string in an answer, this many bytes are parsed (model names, finish reasons, streamed text pieces). */
    static final int KEPT_STRING_BYTES = 64 * 1024;

    static final int MAX_DEPTH = 128;
    static final int MAX_NUMBER_LENGTH = 100;

    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES) // names come from backends: never interned
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength(KEPT_STRING_BYTES + 16)
                    .maxNameLength(KEPT_STRING_BYTES + 16)
                    .maxNestingDepth(MAX_DEPTH)
                    .maxNumberLength(MAX_NUMBER_LENGTH)
                    .build())
            .build();
    /** The fields of a streamed choice whose strings the model generated. */
    private static final Set<String> GENERATED =
            Set.of("content", "refusal", "reasoning_content", "arguments", "text", "reasoning");
    /** More than any one answer counts (the largest context windows hold a few million). */
    static final long MOST_TOKENS = 1_000_000_000L;

    private final JsonParser parser;
    private final ByteArrayFeeder feeder;
    private final LongStrings strings = new LongStrings();
    /** Where a stream event's generated text goes (for an estimate), or null for a JSON answer. */
    private final Consumer<String> generated;
    /** The depth of the event's {@code choices} array while inside it, else 0. */
    private int choicesDepth;

    private boolean broken;
    /** Depth of the object being read: 1 is the answer itself. */
    private int depth;
    /** The depth of the usage object while inside it, else 0; and of a details object inside it. */
    private int usageDepth;

    private String detailsOf;
    private boolean inResponse;
    private long prompt = -1;
    private long completion = -1;
    private long total = -1;
    private long cached = -1;
    private long reasoning = -1;
    /** The usage object being read has a count that cannot be believed. */
    private boolean implausible;
    /** Some usage object of this answer could not be believed. */
    private boolean distrusted;

    private Usage found;
    /** The answer's {@code model} and its choices' {@code finish_reason}s, for traces (bounded, plain words only). */
    private String model;

    private final java.util.List<String> finishReasons;

    JsonUsageScanner() {
        this(null, new java.util.ArrayList<>(1));
    }

    /**
     * A scanner for one stream event's data: its usage, and every text a choice carries — chat's {@code delta}
     * ({@code content}, {@code refusal}, {@code reasoning_content}, {@code tool_calls[].function.arguments},
     * {@code function_call.arguments}), the completions API's {@code text} — or, for the Responses API, the top-level
     * {@code delta} string of its delta events, handed to {@code generated}; finish reasons go to {@code finishReasons}.
     */
    JsonUsageScanner(Consumer<String> generated, java.util.List<String> finishReasons) {
        this.generated = generated;
        this.finishReasons = finishReasons;
        try {
            this.parser = JSON.createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
    }

    /** What {@link #finishEvent} gives for a usage that could not be believed. */
    static final Usage IMPLAUSIBLE = new Usage(-1, -1, -1, -1, -1);

    /** The usage of the event fed so far, complete now; null if it has none, {@link #IMPLAUSIBLE} if not believed. */
    Usage finishEvent() {
        Usage usage = finish();
        return usage == null && distrusted ? IMPLAUSIBLE : usage;
    }

    /** Whether a usage of this answer could not be believed (and so none is reported). */
    boolean distrusted() {
        return distrusted;
    }

    void feed(byte[] bytes) {
        feed(bytes, 0, bytes.length);
    }

    void feed(byte[] bytes, int from, int to) {
        if (broken || to <= from) {
            return;
        }
        byte[] kept = new byte[to - from];
        int length = strings.keep(bytes, from, to, kept);
        if (length == 0) {
            return;
        }
        try {
            feeder.feedInput(kept, 0, length);
            drain();
        } catch (IOException | RuntimeException e) {
            broken = true; // not JSON after all, or past a bound: its usage cannot be read
        }
    }

    Usage finish() {
        if (!broken) {
            feeder.endOfInput();
            try {
                drain();
            } catch (IOException | RuntimeException e) {
                broken = true;
            }
        }
        return found;
    }

    private void drain() throws IOException {
        JsonToken token;
        while ((token = parser.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
            switch (token) {
                case START_OBJECT, START_ARRAY -> {
                    notACount(parser.currentName());
                    if (generated != null
                            && token == JsonToken.START_ARRAY
                            && depth == 1
                            && "choices".equals(parser.currentName())) {
                        choicesDepth = 2;
                    }
                    depth++;
                    if (token == JsonToken.START_OBJECT) {
                        enteredObject(parser.currentName());
                    }
                }
                case END_OBJECT, END_ARRAY -> {
                    if (usageDepth > 0 && depth == usageDepth + 1) {
                        detailsOf = null;
                    }
                    if (depth == usageDepth) {
                        usageEnded();
                    }
                    if (inResponse && depth == 2) {
                        inResponse = false;
                    }
                    if (depth == choicesDepth) {
                        choicesDepth = 0;
                    }
                    depth--;
                }
                case VALUE_NUMBER_INT -> {
                    if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        notACount(parser.currentName()); // past a long: no count is that large
                    } else {
                        number(parser.currentName(), parser.getLongValue());
                    }
                }
                case VALUE_STRING -> {
                    notACount(parser.currentName());
                    string(parser.currentName());
                }
                case VALUE_NUMBER_FLOAT, VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> notACount(parser.currentName());
                default -> {
                    // strings, names, other numbers: nothing to count
                }
            }
        }
    }

    /** {@code model} of the answer (depth 1), {@code finish_reason} of each choice (depth 3: answer, choices, choice). */
    private void string(String field) throws IOException {
        if (field == null) {
            return;
        }
        if (depth == 1 && field.equals("model")) {
            model = plainWord(parser.getText());
        } else if (depth == 3 && field.equals("finish_reason")) {
            noteFinishReason(finishReasons, parser.getText());
        } else if (generated != null) {
            // a choice (depth 3) and up to four levels inside it: delta, tool_calls, a call, its function
            if ((depth == 1 && field.equals("delta"))
                    || (choicesDepth > 0 && depth >= 3 && depth <= 7 && GENERATED.contains(field))) {
                generated.accept(parser.getText());
            }
        }
    }

    String model() {
        return model;
    }

    java.util.List<String> finishReasons() {
        return finishReasons;
    }

    /** A backend's word kept for a trace: at most 64 plain characters, else nothing (it is not echoed as sent). */
    static String plainWord(String text) {
        if (text == null || text.isEmpty() || text.length() > 64) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_' && c != '.' && c != ':') {
                return null;
            }
        }
        return text;
    }

    /** At most 16 reasons, each a plain word: a stream of thousands of choices cannot grow a span. */
    static void noteFinishReason(java.util.List<String> reasons, String text) {
        String word = plainWord(text);
        if (word != null && reasons.size() < 16) {
            reasons.add(word);
        }
    }

    private void enteredObject(String field) {
        if (field == null) {
            return;
        }
        if (usageDepth == 0 && field.equals("usage") && (depth == 2 || (depth == 3 && inResponse))) {
            usageDepth = depth;
            prompt = completion = total = cached = reasoning = -1;
            implausible = false;
        } else if (usageDepth == 0 && depth == 2 && field.equals("response")) {
            inResponse = true;
        } else if (usageDepth > 0 && depth == usageDepth + 1) {
            detailsOf = field;
        }
    }

    private void number(String field, long value) {
        if (usageDepth == 0 || field == null) {
            return;
        }
        if (isCount(field) && (value < 0 || value > MOST_TOKENS)) {
            implausible = true;
        }
        if (depth == usageDepth) {
            switch (field) {
                case "prompt_tokens", "input_tokens" -> prompt = once(prompt, value);
                case "completion_tokens", "output_tokens" -> completion = once(completion, value);
                case "total_tokens" -> total = once(total, value);
                default -> {}
            }
        } else if (isDetailCount(field)) {
            if (field.equals("cached_tokens")) {
                cached = once(cached, value);
            } else {
                reasoning = once(reasoning, value);
            }
        }
    }

    /** A count aigate reads: in the usage object, or the cached and reasoning parts in its details. */
    private boolean isCount(String field) {
        if (depth == usageDepth) {
            return switch (field) {
                case "prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens" -> true;
                default -> false;
            };
        }
        return isDetailCount(field);
    }

    private boolean isDetailCount(String field) {
        if (depth != usageDepth + 1 || detailsOf == null) {
            return false;
        }
        return field.equals("cached_tokens") && (detailsOf.startsWith("prompt") || detailsOf.startsWith("input"))
                || field.equals("reasoning_tokens")
                        && (detailsOf.startsWith("completion") || detailsOf.startsWith("output"));
    }

    /** A count written as anything but a whole number. */
    private void notACount(String field) {
        if (usageDepth > 0 && field != null && isCount(field)) {
            implausible = true;
        }
    }

    /** A count written twice (or under both of its names) is not believed: which one would the budget take? */
    private long once(long before, long value) {
        if (before >= 0) {
            implausible = true;
        }
        return value;
    }

    private void usageEnded() {
        usageDepth = 0;
        detailsOf = null;
        if (implausible
                || (total >= 0 && Math.max(0, prompt) + Math.max(0, completion) > total)
                || (cached >= 0 && prompt >= 0 && cached > prompt)
                || (reasoning >= 0 && completion >= 0 && reasoning > completion)) {
            found = null; // counted as an answer that reported none
            distrusted = true;
            return;
        }
        if (prompt < 0 && completion < 0 && total < 0) {
            return;
        }
        long t = total >= 0 ? total : Math.max(0, prompt) + Math.max(0, completion);
        found = new Usage(Math.max(0, prompt), Math.max(0, completion), t, cached, reasoning);
    }

    /**
     * Passes JSON bytes on with each string (names too) cut to its first {@link #KEPT_STRING_BYTES} bytes, as they
     * arrive: what is dropped is never held. A cut falls only where a character starts (an ASCII byte or an escape's
     * backslash, never inside an escape or a multibyte character), so what passes is still well-formed JSON; the structure outside strings passes whole.
     */
    static final class LongStrings {
        private boolean inString;
        private boolean escaped;
        private int hexLeft;
        private int kept;
        private boolean dropping;

        /** Writes what passes of {@code in[from, to)} into {@code out} (at least as large) and says how much. */
        int keep(byte[] in, int from, int to, byte[] out) {
            int n = 0;
            for (int i = from; i < to; i++) {
                byte b = in[i];
                if (!inString) {
                    out[n++] = b;
                    if (b == '"') {
                        inString = true;
                        kept = 0;
                        dropping = false;
                    }
                } else if (dropping) {
                    if (escaped) {
                        escaped = false;
                    } else if (b == '\\') {
                        escaped = true;
                    } else if (b == '"') {
                        out[n++] = b;
                        inString = false;
                    }
                } else if (escaped || hexLeft > 0) {
                    out[n++] = b;
                    if (escaped && b == 'u') {
                        hexLeft = 4;
                    } else if (!escaped) {
                        hexLeft--;
                    }
                    escaped = false;
                    kept++;
                } else if (b == '"') {
                    out[n++] = b;
                    inString = false;
                } else if (kept >= KEPT_STRING_BYTES && b >= 0) {
                    dropping = true; // on an ASCII byte, or the backslash that begins an escape: a character's start
                    escaped = b == '\\';
                } else {
                    out[n++] = b;
                    kept++;
                    escaped = b == '\\';
                }
            }
            return n;
        }
    }
}
