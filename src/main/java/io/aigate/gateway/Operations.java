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

    private record Template(String method, String[] segments) {

        boolean matches(String requestMethod, String[] parts) {
            if (!method.equals("*") && !method.equals(requestMethod)) {
                return false;
            }
            if (parts.length != segments.length) {
                return false;
            }
            for (int i = 0; i < parts.length; i++) {
                boolean parameter = segments[i].startsWith("{");
                if (parts[i].isEmpty() || (!parameter && !segments[i].equals(parts[i]))) {
                    return false;
                }
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
        return new Template(parts[0], parts[1].split("/"));
    }

    boolean allows(String method, String operation) {
        String[] parts = operation.split("/", -1);
        for (Template t : templates) {
            if (t.matches(method, parts)) {
                return true;
            }
        }
        return false;
    }

    /** Inference operations whose body is multipart (audio, image edits): the deployment is in the classic path. */
    static final Set<String> MULTIPART_INFERENCE = Set.of("audio/transcriptions", "audio/translations", "images/edits");

    /** Whether the operation makes a model work, so a token budget applies (listing or reading data spends nothing). */
    static boolean generatesTokens(String method, String operation) {
        return jsonInference(method, operation) || ("POST".equals(method) && MULTIPART_INFERENCE.contains(operation));
    }

    /** Whether the body must be a JSON object; on the v1 API its {@code model} then names the deployment. */
    static boolean jsonInference(String method, String operation) {
        return "POST".equals(method) && JSON_INFERENCE.contains(operation);
    }
}
