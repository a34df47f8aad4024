package io.aigate.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.JsonBody;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import jakarta.inject.Singleton;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * APIM's {@code validate-content}, for what a body makes the backend do beyond the tokens aigate meters: a request
 * body may name a resource the backend reaches with the resource's own identity (a search index, a vector store, a
 * stored file, a stored response), an endpoint it will call (an MCP server), or work it will do unmetered (a
 * background response, a hosted tool billed per call). On a shared backend identity each of these reaches every
 * team's data or budget, so, like the files and batches operations, each is refused unless the route grants it by
 * name in {@code aigate.routes.<route>.body-features}.
 *
 * <p>Judged on the one strict reading of the body (duplicate names are refused before it), at every depth the backend
 * reads them. Names are compared as a lenient binder would bind them: without regard to case, {@code _} or {@code -}
 * ({@code Data_Sources}, {@code dataSources}), so no spelling passes that a backend might still read. A value that
 * only switches a feature on ({@code background}, {@code store}) passes as {@code false} or {@code null} only: a
 * binder may read {@code "true"} or {@code 1} as true.
 */
@Singleton
public class ValidateBodyFeatures implements Policy.Stateless {

    /** What a body can ask for, by the name a route grants it with. */
    public enum Feature {
        DATA_SOURCES("data-sources", "data_sources (On Your Data: the resource's identity reads the index it names)"),
        BACKGROUND("background", "background (a response run later, whose usage aigate never sees)"),
        STORE("store", "store (state kept in the resource that later requests can reference)"),
        PREVIOUS_RESPONSE_ID("previous-response-id", "previous_response_id (a stored response)"),
        CONVERSATION("conversation", "conversation (a stored conversation)"),
        PROMPT("prompt", "prompt (a stored prompt template)"),
        ITEM_REFERENCE("item-reference", "an item_reference input (a stored item)"),
        FILE_IDS("file-ids", "a file or vector store id (file_id, file_ids, vector_store_ids, tool_resources, …)"),
        FILE_SEARCH("file-search", "a file_search tool (searches stored vector stores)"),
        CODE_INTERPRETER("code-interpreter", "a code_interpreter tool (a container, billed per session)"),
        MCP("mcp", "an mcp tool or server_url (an endpoint the backend calls)"),
        WEB_SEARCH("web-search", "web search (billed per call, outside tokens)"),
        IMAGE_GENERATION("image-generation", "an image_generation tool (billed per image, outside tokens)"),
        OTHER_TOOLS("other-tools", "a tool type other than function or custom");

        private final String key;
        private final String what;

        Feature(String key, String what) {
            this.key = key;
            this.what = what;
        }

        public String key() {
            return key;
        }

        /** @return null when no feature has that name */
        public static Feature of(String key) {
            for (Feature f : values()) {
                if (f.key.equals(key)) {
                    return f;
                }
            }
            return null;
        }
    }

    /** Names (normalised) that name a stored resource wherever they stand. */
    private static final Map<String, Feature> NAMED_ANYWHERE = Map.ofEntries(
            Map.entry("datasources", Feature.DATA_SOURCES),
            Map.entry("enhancements", Feature.DATA_SOURCES),
            Map.entry("fileid", Feature.FILE_IDS),
            Map.entry("fileids", Feature.FILE_IDS),
            Map.entry("inputfileid", Feature.FILE_IDS),
            Map.entry("trainingfile", Feature.FILE_IDS),
            Map.entry("validationfile", Feature.FILE_IDS),
            Map.entry("vectorstoreid", Feature.FILE_IDS),
            Map.entry("vectorstoreids", Feature.FILE_IDS),
            Map.entry("toolresources", Feature.FILE_IDS),
            Map.entry("attachments", Feature.FILE_IDS),
            Map.entry("serverurl", Feature.MCP),
            Map.entry("connectorid", Feature.MCP),
            Map.entry("previousresponseid", Feature.PREVIOUS_RESPONSE_ID),
            Map.entry("websearchoptions", Feature.WEB_SEARCH));

    /** Top-level names whose mere (non-null) presence is the feature. */
    private static final Map<String, Feature> NAMED_AT_TOP = Map.of("conversation", Feature.CONVERSATION);

    /** Top-level switches: on unless {@code false} or {@code null}. */
    private static final Map<String, Feature> SWITCHES =
            Map.of("background", Feature.BACKGROUND, "store", Feature.STORE);

    /**
     * Where names are the caller's own, not the API's: a function's JSON schema, a response format, metadata. The
     * backend reads no feature inside them, and a schema may rightly call a property {@code file_id}.
     */
    private static final Set<String> CALLERS_OWN =
            Set.of("parameters", "schema", "jsonschema", "inputschema", "metadata", "properties", "defs");

    private final Map<String, Set<Feature>> granted = new HashMap<>();
    private final Map<String, Map<Feature, RequestRefusal>> refusals = new HashMap<>();

    ValidateBodyFeatures(AigateConfig config) {
        config.routes().forEach((name, route) -> {
            Set<Feature> features = EnumSet.noneOf(Feature.class);
            for (String key : route.bodyFeatures().orElse(List.of())) {
                Feature f = Feature.of(key.trim());
                if (f != null) { // the start-up check refused any other
                    features.add(f);
                }
            }
            granted.put(name, features);
            Map<Feature, RequestRefusal> messages = new EnumMap<>(Feature.class);
            for (Feature f : Feature.values()) {
                messages.put(f, refusal(name, f));
            }
            refusals.put(name, messages);
        });
    }

    static RequestRefusal refusal(String route, Feature f) {
        return new RequestRefusal(
                400,
                "The request body uses " + f.what + ", which route " + route + " does not allow: add " + f.key
                        + " to aigate.routes." + route + ".body-features to allow it.",
                "body_feature",
                Map.of());
    }

    @Override
    public String name() {
        return "validate-body-features";
    }

    @Override
    public Future<Outcome> onRequestBody(RequestContext ctx) {
        String route = ctx.route().name();
        Set<Feature> allowed = granted.get(route);
        if (allowed == null) {
            return PROCEED;
        }
        Feature used = null;
        if (ctx.json() != null) {
            used = firstUsed(ctx.json(), ctx.inbound().operation(), allowed);
            if (used == null
                    && !allowed.contains(Feature.STORE)
                    && "responses".equals(ctx.inbound().operation())) {
                ObjectNode unstored = unstored(ctx.json());
                if (unstored != null) {
                    Buffer written = JsonBody.write(unstored);
                    if (written == null) {
                        return Future.succeededFuture(
                                Outcome.refuse(refusals.get(route).get(Feature.STORE)));
                    }
                    ctx.replaceBody(written, unstored);
                }
            }
        } else if (ctx.form() != null) {
            used = firstNamed(ctx.form().names(), allowed);
        }
        return Future.succeededFuture(
                used == null
                        ? Outcome.proceed()
                        : Outcome.refuse(refusals.get(route).get(used)));
    }

    /**
     * The Responses API stores a response unless told {@code "store": false}: silence would keep state in the shared
     * resource that any later request naming its id could read. Where the route does not grant {@code store}, the body
     * says false, in the one spelling every binder reads (other spellings, which passed as null, are dropped).
     *
     * @return the body to send, or null when it already says {@code "store": false} and nothing else
     */
    static ObjectNode unstored(ObjectNode body) {
        JsonNode exact = body.get("store");
        boolean otherSpelling = false;
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            otherSpelling |= !name.equals("store") && normalised(name).equals("store");
        }
        if (exact != null && exact.isBoolean() && !exact.booleanValue() && !otherSpelling) {
            return null;
        }
        ObjectNode copy = JsonBody.shallowCopy(body);
        for (Iterator<String> names = copy.fieldNames(); names.hasNext(); ) {
            if (normalised(names.next()).equals("store")) {
                names.remove();
            }
        }
        copy.put("store", false);
        return copy;
    }

    /** The first feature the body uses that {@code allowed} does not hold, or null. */
    static Feature firstUsed(ObjectNode body, String operation, Set<Feature> allowed) {
        for (Iterator<Map.Entry<String, JsonNode>> fields = body.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = field.getValue();
            if (value.isNull()) {
                continue;
            }
            String name = normalised(field.getKey());
            Feature f = null;
            if (SWITCHES.containsKey(name)) {
                f = value.isBoolean() && !value.booleanValue() ? null : SWITCHES.get(name);
            } else if (NAMED_AT_TOP.containsKey(name)) {
                f = NAMED_AT_TOP.get(name);
            } else if (name.equals("prompt") && (value.isObject() || "responses".equals(operation))) {
                f = Feature.PROMPT; // a completion's prompt is text; the Responses API's names a stored template
            } else if (name.equals("tools")) {
                f = firstTool(value, allowed);
            }
            if (f != null && !allowed.contains(f)) {
                return f;
            }
        }
        return firstAnywhere(body, allowed);
    }

    /** A form's field names, read as the top level of a JSON body is. */
    static Feature firstNamed(List<String> names, Set<Feature> allowed) {
        for (String raw : names) {
            String name = normalised(raw);
            Feature f = NAMED_ANYWHERE.get(name);
            if (f == null) {
                f = SWITCHES.containsKey(name) ? SWITCHES.get(name) : NAMED_AT_TOP.get(name);
            }
            if (f == null && (name.equals("tools") || name.startsWith("tools["))) {
                f = Feature.OTHER_TOOLS;
            }
            if (f != null && !allowed.contains(f)) {
                return f;
            }
        }
        return null;
    }

    /** Tools are functions (and custom tools) the caller runs, unless the route grants a hosted one by name. */
    private static Feature firstTool(JsonNode tools, Set<Feature> allowed) {
        if (!tools.isArray()) {
            return allowed.contains(Feature.OTHER_TOOLS) ? null : Feature.OTHER_TOOLS;
        }
        for (JsonNode tool : tools) {
            JsonNode type = tool.isObject() ? tool.get("type") : null;
            Feature f =
                    type != null && type.isTextual() ? toolFeature(normalised(type.textValue())) : Feature.OTHER_TOOLS;
            if (f != null && !allowed.contains(f)) {
                return f;
            }
        }
        return null;
    }

    private static Feature toolFeature(String type) {
        return switch (type) {
            case "function", "custom" -> null;
            case "filesearch" -> Feature.FILE_SEARCH;
            case "codeinterpreter" -> Feature.CODE_INTERPRETER;
            case "mcp" -> Feature.MCP;
            case "imagegeneration" -> Feature.IMAGE_GENERATION;
            default -> type.startsWith("websearch") ? Feature.WEB_SEARCH : Feature.OTHER_TOOLS;
        };
    }

    /** Names that point at stored resources, and stored items by type, at any depth outside the caller's own names. */
    private static Feature firstAnywhere(JsonNode node, Set<Feature> allowed) {
        if (node.isArray()) {
            for (JsonNode element : node) {
                Feature f = firstAnywhere(element, allowed);
                if (f != null) {
                    return f;
                }
            }
            return null;
        }
        if (!node.isObject()) {
            return null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            String name = normalised(field.getKey());
            JsonNode value = field.getValue();
            if (CALLERS_OWN.contains(name) || value.isNull()) {
                continue;
            }
            if (name.equals("type") && value.isTextual() && grantedTool(normalised(value.textValue()), allowed)) {
                return null; // a hosted tool the route grants: what it names (its vector stores, its files) with it
            }
            Feature f = NAMED_ANYWHERE.get(name);
            if (f == null
                    && name.equals("type")
                    && value.isTextual()
                    && normalised(value.textValue()).equals("itemreference")) {
                f = Feature.ITEM_REFERENCE;
            }
            if (f == null) {
                f = firstAnywhere(value, allowed);
            } else if (allowed.contains(f)) {
                f = firstAnywhere(value, allowed);
            }
            if (f != null && !allowed.contains(f)) {
                return f;
            }
        }
        return null;
    }

    private static boolean grantedTool(String type, Set<Feature> allowed) {
        Feature f = toolFeature(type);
        return f != null && f != Feature.OTHER_TOOLS && allowed.contains(f);
    }

    /** The one form names are compared in: lower case, without {@code _} and {@code -}. */
    static String normalised(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != '_' && c != '-') {
                out.append(c);
            }
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
