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
 * Token counts from text with the model's own tokenizer (jtokkit), for what the backend did not report: a stream cut
 * before its usage event. Unknown models (Azure deployments have their own names) use o200k_base, the GPT-4o family's.
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

    /** The prompt of a chat request: every message's text, plus the chat format's overhead; 0 if unreadable. */
    public static long prompt(Buffer body, String model) {
        if (body == null || body.length() == 0) {
            return 0;
        }
        try {
            JsonNode messages = MAPPER.readTree(body.getBytes()).path("messages");
            if (!messages.isArray()) {
                return 0;
            }
            Encoding encoding = encodingFor(model);
            long tokens = PRIMING;
            for (JsonNode message : messages) {
                tokens += PER_MESSAGE;
                JsonNode content = message.path("content");
                if (content.isTextual()) {
                    tokens += encoding.countTokens(content.asText());
                } else if (content.isArray()) {
                    for (JsonNode part : content) {
                        if (part.path("text").isTextual()) {
                            tokens += encoding.countTokens(part.path("text").asText());
                        }
                    }
                }
            }
            return tokens;
        } catch (IOException e) {
            return 0;
        }
    }
}
