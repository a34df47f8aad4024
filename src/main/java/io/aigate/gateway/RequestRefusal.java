package io.aigate.gateway;

import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.Refusal;
import java.util.Map;

/**
 * The gateway's own refusals: a request aigate cannot read one way only, that names nothing it serves, or that the
 * backend never answered. The layers' refusals live with their layers ({@code KeyRefusal}, {@code JwtRefusal}, …).
 */
public record RequestRefusal(int status, String message, String reason, Map<String, String> headers)
        implements Refusal {

    public RequestRefusal {
        headers = Map.copyOf(headers);
    }

    public static final RequestRefusal INVALID_TARGET = of(400, "Invalid request target.", "invalid_target");
    public static final RequestRefusal REPEATED_PARAMETER = of(
            400,
            "A query parameter that aigate reads " + "(api-version or the subscription key) appears more than once.",
            "repeated_parameter");
    public static final RequestRefusal NOT_FOUND = of(404, "Resource not found", "no_route");
    public static final RequestRefusal METHOD_NOT_ALLOWED = of(405, "Method not allowed.", "method_not_allowed");
    public static final RequestRefusal BODY_TIMEOUT =
            of(408, "The request body was not received in time.", "body_timeout");
    public static final RequestRefusal BODY_INCOMPLETE =
            of(400, "The request body was not received completely.", "body_incomplete");
    public static final RequestRefusal BODIES_OVER_BOUND = new RequestRefusal(
            503,
            "Too many request bodies are being received right now. Retry shortly.",
            "bodies_over_bound",
            Map.of("Retry-After", "1"));
    public static final RequestRefusal MODEL_UNREADABLE = unreadable("The request body's model must name a "
            + "deployment: letters, digits, '.', '_' or '-', at most 64, starting and ending with a letter or digit.");
    public static final RequestRefusal TYPE_REPEATED = unreadable("The request names its Content-Type more than once.");
    public static final RequestRefusal URLENCODED = unreadable("aigate does not read "
            + "application/x-www-form-urlencoded bodies (Azure OpenAI takes none): send JSON or multipart/form-data.");
    public static final RequestRefusal NOT_RENAMEABLE = unreadable(
            "The backend names this deployment otherwise, and "
                    + "the request cannot be rewritten with its name: name the deployment in the JSON body's or the form's model.");
    public static final RequestRefusal REALTIME_NOT_UPGRADE = of(
            400, "The Realtime API is a WebSocket: send the request as a WebSocket upgrade.", "realtime_not_upgrade");
    public static final RequestRefusal REALTIME_DEPLOYMENT = of(
            400,
            "A Realtime session names its deployment once in the query: deployment= (model= on the v1 API).",
            "realtime_deployment");

    public static final RequestRefusal REALTIME_QUERY = of(
            400,
            "A Realtime session's query takes api-version and its deployment (deployment=, or model= on the v1 API)"
                    + " only; any other parameter is refused, not forwarded.",
            "realtime_query");
    public static final RequestRefusal REALTIME_SESSIONS_OVER_BOUND = new RequestRefusal(
            503,
            "Too many Realtime sessions are open on this instance right now (max-sessions). Retry shortly.",
            "realtime_sessions_over_bound",
            Map.of("Retry-After", "1"));
    public static final RequestRefusal BACKEND_REFUSED_SESSION =
            of(502, "The backend refused the Realtime session.", "backend_refused_session");
    public static final RequestRefusal INTERNAL = of(500, "Internal error.", "pipeline_error");
    public static final RequestRefusal SHUTTING_DOWN = new RequestRefusal(
            503,
            "aigate is shutting down; the request was not forwarded. Retry it.",
            "shutting_down",
            Map.of("Retry-After", "1"));
    public static final RequestRefusal BACKEND_UNREACHABLE =
            of(502, "The backend could not be reached.", "backend_unreachable");
    public static final RequestRefusal BACKEND_TIMEOUT =
            of(504, "The backend did not answer in time.", "backend_timeout");
    public static final RequestRefusal BACKEND_BUSY = new RequestRefusal(
            503,
            "Every connection aigate may open to the backend is in use (max-connections). Retry shortly.",
            "backend_busy",
            Map.of("Retry-After", "1"));

    /**
     * An answer aigate never relays: a redirect (the caller's SDK would follow it with the subscription key and the
     * prompt to wherever it points), an interim or protocol-switching status, a proxy's challenge, or a number that
     * is no HTTP status. The caller learns the status, a number aigate read; nothing else of the answer passes.
     */
    public static RequestRefusal backendAnswer(int status) {
        return status >= 300 && status < 400
                ? of(
                        502,
                        "The backend answered with a redirect (status " + status
                                + "), which aigate never follows or relays.",
                        "backend_redirect")
                : of(
                        502,
                        "The backend answered with status " + status + ", which aigate never relays.",
                        "backend_invalid_status");
    }

    /** {@code forward-request} when the backend failed it; aigate's own reading of the request otherwise. */
    @Override
    public String policy() {
        return reason.startsWith("backend_") ? "forward-request" : "request";
    }

    private static RequestRefusal of(int status, String message, String reason) {
        return new RequestRefusal(status, message, reason, Map.of());
    }

    /** A body over {@code max-body-size}, declared or while it was read. */
    public static RequestRefusal tooLarge(long limit) {
        return of(413, "Request body is larger than the limit of " + limit + " bytes.", "body_too_large");
    }

    /** A body whose parsed JSON would take more than {@code max-parsed-size}. */
    public static RequestRefusal parsedTooLarge(long limit) {
        return of(
                413,
                "Request body's JSON is larger than the limit of " + limit + " bytes once parsed.",
                "body_too_large");
    }

    /** A body that cannot be read one way only. */
    public static RequestRefusal unreadable(JsonBody.Problem problem) {
        return unreadable(problem.message());
    }

    /** @param message a text aigate chose (e.g. which number it could not judge), never the caller's */
    public static RequestRefusal unreadable(String message) {
        return of(400, message, "body_unreadable");
    }
}
