package io.aigate.gateway;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Error answers in APIM's shape, {@code {"statusCode":N,"message":"…"}}, so clients that parse APIM errors parse ours.
 * Messages are fixed texts chosen by aigate: nothing the caller sent is echoed back.
 */
final class ApimError {

    static final String NOT_FOUND = "Resource not found";
    static final String INVALID_TARGET = "Invalid request target.";
    static final String REPEATED_PARAMETER = "A query parameter that aigate reads (api-version or the subscription "
            + "key) appears more than once.";
    static final String METHOD_NOT_ALLOWED = "Method not allowed.";
    static final String TOO_LARGE = "Request body is larger than the limit of %d bytes.";
    static final String BODY_TIMEOUT = "The request body was not received in time.";
    static final String BODY_INCOMPLETE = "The request body was not received completely.";
    static final String BUSY = "Too many request bodies are being received right now. Retry shortly.";
    static final String MODEL_UNREADABLE = "The request body's model must name a deployment: letters, digits, "
            + "'.', '_' or '-', at most 64, starting and ending with a letter or digit.";
    static final String BAD_GATEWAY = "The backend could not be reached.";
    static final String GATEWAY_TIMEOUT = "The backend did not answer in time.";

    private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

    private ApimError() {
    }

    static String body(int status, String message) {
        return new JsonObject().put("statusCode", status).put("message", message).encode();
    }

    /**
     * @param close whether to close the connection afterwards: when the request body was not read, closing is
     *              cheaper and safer than draining whatever the caller still sends
     */
    static void send(HttpServerResponse response, int status, String message, Map<String, String> headers,
                     boolean close) {
        if (response.headWritten() || response.closed()) {
            return;
        }
        response.setStatusCode(status);
        response.headers().set(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON);
        headers.forEach(response.headers()::set);
        if (close) {
            response.headers().set(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        response.end(body(status, message));
    }
}
