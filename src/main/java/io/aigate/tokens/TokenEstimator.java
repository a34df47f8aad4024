package io.aigate.tokens;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;

/**
 * Token counts from text with the model's own tokenizer (jtokkit): for what the backend did not report (a stream cut
 * before its usage event), and for what a request will cost before it is sent (the token limit's reservation).
 * Unknown models (Azure deployments have their own names) use o200k_base, the GPT-4o family's.
 */
public final class TokenEstimator {

    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** OpenAI's chat format adds about this many tokens per message, and this many to prime the answer. */
    private static final int PER_MESSAGE = 4;
    private static final int PRIMING = 3;

    private TokenEstimator() {
    }

    static Encoding encodingFor(String model) {
        if (model != null) {
            var known = REGISTRY.getEncodingForModel(model);
            if (known.isPresent()) {
                return known.get();
            }
        }
        return REGISTRY.getEncoding(EncodingType.O200K_BASE);
    }

    public static long count(String text, String model) {
        return text == null || text.isEmpty() ? 0 : encodingFor(model).countTokens(text);
    }

    /**
     * What a request asks of the model before it is sent: its prompt (counted with the tokenizer when asked to) and
     * the completion it allows ({@code max_tokens}, {@code max_completion_tokens} or {@code max_output_tokens}; -1 when
     * it sets none).
     */
    public record Demand(long promptTokens, long maxCompletionTokens, int choices) {
        static final Demand NONE = new Demand(0, -1, 1);
    }

    /** The prompt of a request: chat messages, a Responses or embeddings input, or a completions prompt; 0 if unreadable. */
    public static long prompt(Buffer body, String model) {
        return demand(body, model, true).promptTokens();
    }

    public static Demand demand(Buffer body, String model, boolean countPrompt) {
        if (body == null || body.length() == 0) {
            return Demand.NONE;
        }
        try {
            JsonNode request = MAPPER.readTree(body.getBytes());
            if (request == null || !request.isObject()) {
                return Demand.NONE;
            }
            long max = -1;
            for (String field : new String[]{"max_completion_tokens", "max_tokens", "max_output_tokens"}) {
                if (request.path(field).canConvertToLong() && request.path(field).asLong() > 0) {
                    max = request.path(field).asLong();
                    break;
                }
            }
            // n choices each write up to the maximum (the backend refuses more than 128)
            int choices = request.path("n").canConvertToInt() ? Math.max(1, Math.min(128, request.path("n").asInt()))
                    : 1;
            return new Demand(countPrompt ? promptOf(request, model) : 0, max, choices);
        } catch (IOException e) {
            return Demand.NONE;
        }
    }

    private static long promptOf(JsonNode request, String model) {
        Encoding encoding = encodingFor(model);
        long tokens = 0;
        JsonNode messages = request.path("messages");
        if (messages.isArray()) {
            tokens += PRIMING;
            for (JsonNode message : messages) {
                tokens += PER_MESSAGE + text(message.path("content"), encoding);
            }
        }
        // the Responses API (a string or a list of message items), embeddings (a string or a list), completions
        tokens += text(request.path("instructions"), encoding);
        tokens += items(request.path("input"), encoding);
        tokens += items(request.path("prompt"), encoding);
        return tokens;
    }

    private static long items(JsonNode input, Encoding encoding) {
        if (!input.isArray()) {
            return text(input, encoding);
        }
        long tokens = 0;
        for (JsonNode item : input) {
            if (item.isNumber()) {
                tokens++; // embeddings accept the tokens themselves
            } else if (item.isArray() && item.size() > 0 && item.get(0).isNumber()) {
                tokens += item.size();
            } else {
                tokens += item.isObject() ? PER_MESSAGE + text(item.path("content"), encoding) : text(item, encoding);
            }
        }
        return tokens;
    }

    /** A string, or a list of content parts with {@code text}; images and audio are not estimated. */
    private static long text(JsonNode content, Encoding encoding) {
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
                }
            }
        }
        return tokens;
    }
}
