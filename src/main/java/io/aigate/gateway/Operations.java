package io.aigate.gateway;

import io.aigate.config.AigateConfig;
import java.util.List;
import java.util.Set;

/**
 * The operations a route allows, as APIM's API operations: a method and a path template relative to the API root
 * ({@code chat/completions}; {@code files/{file-id}/content}). A route allows the model-addressed inference operations
 * unless it names others; anything it does not name is 404 without backend contact. Listing files, reading stored
 * completions or batches therefore has to be granted on purpose: on a shared backend identity they reach every team's
 * data.
 */
final class Operations {

    /** Inference operations whose body is a JSON object; on the v1 API its {@code model} names the deployment. */
    private static final Set<String> JSON_INFERENCE =
            Set.of("chat/completions", "completions", "embeddings", "responses", "images/generations", "audio/speech");

    /** @param path as configured ({@code files/{file-id}}): what metrics and spans call the operation */
    private record Template(String method, String path, String[] segments) {

        /** Segment by segment along the operation itself: this runs on every request, so it cuts nothing out. */
        boolean matches(String requestMethod, String operation) {
            if (!method.equals("*") && !method.equals(requestMethod)) {
                return false;
            }
            int start = 0;
            for (int i = 0; i < segments.length; i++) {
                int end = operation.indexOf('/', start);
                if (end < 0) {
                    end = operation.length();
                }
                if (end == start || (end == operation.length()) != (i == segments.length - 1)) {
                    return false; // an empty segment, or fewer or more segments than the template has
                }
                String segment = segments[i];
                boolean parameter = segment.startsWith("{");
                if (!parameter && (segment.length() != end - start || !operation.startsWith(segment, start))) {
                    return false;
                }
                start = end + 1;
            }
            return true;
        }
    }

    private final List<Template> templates;

    private Operations(List<Template> templates) {
        this.templates = templates;
    }

    /** @param entries operations the start-up check accepted ({@link AigateConfig.Route#OPERATION}) */
    static Operations parse(List<String> entries) {
        return new Operations(entries.stream()
                .map(String::trim)
                .filter(e -> !e.isEmpty())
                .map(Operations::template)
                .toList());
    }

    private static Template template(String entry) {
        if (!AigateConfig.Route.OPERATION.matcher(entry).matches()) {
            throw new IllegalArgumentException("not an operation: " + entry);
        }
        String[] parts = entry.split("\\s+");
        return new Template(parts[0], parts[1], parts[1].split("/"));
    }

    boolean allows(String method, String operation) {
        return template(method, operation) != null;
    }

    /**
     * The configured template the operation matched ({@code files/{file-id}} for {@code files/file-abc}), never the
     * caller's path: a label made from it is one per configured operation, not one per id. Null if none matches.
     */
    String template(String method, String operation) {
        for (Template t : templates) {
            if (t.matches(method, operation)) {
                return t.path();
            }
        }
        return null;
    }

    /**
     * Inference operations whose body is a form (audio, image edits and variations): the deployment is in the classic
     * path, or the v1 form's {@code model} field.
     */
    static final Set<String> MULTIPART_INFERENCE =
            Set.of("audio/transcriptions", "audio/translations", "images/edits", "images/variations");

    /** Whether the operation makes a model work, so a token budget applies (listing or reading data spends nothing). */
    static boolean generatesTokens(String method, String operation) {
        return jsonInference(method, operation) || ("POST".equals(method) && MULTIPART_INFERENCE.contains(operation));
    }

    /** Whether a v1 request of this operation must name its deployment in the body (JSON or form {@code model}). */
    static boolean modelAddressed(String method, String operation) {
        return generatesTokens(method, operation);
    }

    /**
     * Whether a v1 request's body may name a deployment, so it is read before the route is chosen: every method with
     * a body, whatever the operation. A backend takes a {@code model} wherever it finds one (video generation,
     * realtime sessions, token counts): no list of operations keeps up with it.
     */
    static boolean mayNameModel(String method) {
        return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
    }

    /** Whether the body must be a JSON object; on the v1 API its {@code model} then names the deployment. */
    static boolean jsonInference(String method, String operation) {
        return "POST".equals(method) && JSON_INFERENCE.contains(operation);
    }
}
