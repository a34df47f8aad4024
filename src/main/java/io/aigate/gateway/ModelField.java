package io.aigate.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;

/**
 * Reads the top-level {@code model} of a v1 request body with a streaming parser: no tree is built, and the scan stops
 * at the field. A body that is not a JSON object names no model (it may still match the {@code *} route).
 */
final class ModelField {

    private static final JsonFactory JSON = new JsonFactory();

    private ModelField() {
    }

    static String of(Buffer body) {
        if (body == null || body.length() == 0) {
            return null;
        }
        byte[] bytes = body.getBytes();
        try (JsonParser parser = JSON.createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("model".equals(field)) {
                    return value == JsonToken.VALUE_STRING ? parser.getText() : null;
                }
                parser.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
