package io.aigate.tokens;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import java.io.IOException;

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
 */
final class JsonUsageScanner {

    private static final JsonFactory JSON = new JsonFactory();
    /** More than any one answer counts (the largest context windows hold a few million). */
    static final long MOST_TOKENS = 1_000_000_000L;

    private final JsonParser parser;
    private final ByteArrayFeeder feeder;
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

    private final java.util.List<String> finishReasons = new java.util.ArrayList<>(1);

    JsonUsageScanner() {
        try {
            this.parser = JSON.createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
    }

    /** What {@link #read} gives for a usage that could not be believed. */
    static final Usage IMPLAUSIBLE = new Usage(-1, -1, -1, -1, -1);

    /**
     * The usage of one complete JSON text (an SSE event's data) from {@code offset} on; null if it has none,
     * {@link #IMPLAUSIBLE} if it has one that cannot be believed.
     */
    static Usage read(byte[] bytes, int offset) {
        JsonUsageScanner scanner = new JsonUsageScanner();
        scanner.feed(bytes, offset);
        Usage usage = scanner.finish();
        return usage == null && scanner.distrusted ? IMPLAUSIBLE : usage;
    }

    /** Whether a usage of this answer could not be believed (and so none is reported). */
    boolean distrusted() {
        return distrusted;
    }

    void feed(byte[] bytes) {
        feed(bytes, 0);
    }

    private void feed(byte[] bytes, int offset) {
        if (broken || bytes.length <= offset) {
            return;
        }
        try {
            feeder.feedInput(bytes, offset, bytes.length);
            drain();
        } catch (IOException | RuntimeException e) {
            broken = true; // not JSON after all: its usage cannot be read
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
}
