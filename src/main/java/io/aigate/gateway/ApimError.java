package io.aigate.gateway;

import io.aigate.pipeline.Refusal;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * Renders a refusal in APIM's shape, {@code {"statusCode":N,"message":"…"}}, so clients that parse APIM errors parse
 * ours. The one place an error answer is written.
 */
final class ApimError {

    private static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

    private ApimError() {}

    static String body(Refusal refusal) {
        return new JsonObject()
                .put("statusCode", refusal.status())
                .put("message", refusal.message())
                .encode();
    }

    /**
     * @param close whether to close the connection afterwards: when the request body was not read, closing is
     *              cheaper and safer than draining whatever the caller still sends
     */
    static void send(HttpServerResponse response, Refusal refusal, boolean close) {
        if (response.headWritten() || response.closed()) {
            return;
        }
        response.setStatusCode(refusal.status());
        response.headers().set(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON);
        refusal.headers().forEach(response.headers()::set);
        if (close) {
            response.headers().set(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        response.end(body(refusal));
    }
}
