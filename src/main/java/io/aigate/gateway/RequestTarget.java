package io.aigate.gateway;

import io.aigate.config.AigateConfig;

/**
 * The request target, checked before anything else: only origin-form targets under {@code /openai/}, and only paths
 * made of RFC 3986's unreserved characters and {@code /}. Azure OpenAI's paths need nothing else, so whatever a
 * backend could read differently — a percent-escape (decoded once or twice?), a {@code ;} parameter (a path segment
 * or not?), {@code ..}, a backslash — is refused instead of interpreted: the path aigate matches is the path it
 * forwards, byte for byte.
 *
 * <p>Azure OpenAI has two path shapes: classic {@code /openai/deployments/{deployment}/{operation}} (deployment in the
 * path) and v1 {@code /openai/v1/{operation}} (deployment in the JSON body's {@code model}).
 */
record RequestTarget(Kind kind, String path, String query, String deployment, String operation) {

    enum Kind {
        CLASSIC,
        V1,
        /** Azure's Realtime WebSocket, {@code /openai/realtime}: the deployment is the query's {@code deployment}. */
        REALTIME,
        NOT_FOUND,
        INVALID
    }

    private static final String CLASSIC_PREFIX = "/openai/deployments/";
    private static final String V1_PREFIX = "/openai/v1/";
    private static final String REALTIME_PATH = "/openai/realtime";
    /** The operation of a Realtime session, as routes name it ({@code GET realtime}), on either API. */
    static final String REALTIME = "realtime";

    private static final int MAX_TARGET_LENGTH = 8192;

    static RequestTarget parse(String uri) {
        if (uri == null || uri.isEmpty() || uri.charAt(0) != '/' || uri.length() > MAX_TARGET_LENGTH) {
            return invalid(); // absolute-form, authority-form, asterisk-form: a sidecar has only one way in
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? null : uri.substring(q + 1);
        if (query != null && query.indexOf('#') >= 0) {
            return invalid();
        }
        if (!plainPath(path) || !segmentsAreSafe(path)) {
            return invalid();
        }
        if (path.equals(REALTIME_PATH)) {
            return new RequestTarget(Kind.REALTIME, path, query, null, REALTIME);
        }
        if (path.startsWith(CLASSIC_PREFIX)) {
            int end = path.indexOf('/', CLASSIC_PREFIX.length());
            if (end < 0 || end == path.length() - 1) {
                return new RequestTarget(Kind.NOT_FOUND, path, query, null, null);
            }
            String deployment = path.substring(CLASSIC_PREFIX.length(), end);
            if (!validDeploymentName(deployment)) {
                return invalid();
            }
            String operation = path.substring(end + 1);
            return lowerCaseNames(operation)
                    ? new RequestTarget(Kind.CLASSIC, path, query, deployment, operation)
                    : new RequestTarget(Kind.NOT_FOUND, path, query, null, null);
        }
        if (path.startsWith(V1_PREFIX) && path.length() > V1_PREFIX.length()) {
            String operation = path.substring(V1_PREFIX.length());
            return lowerCaseNames(operation)
                    ? new RequestTarget(Kind.V1, path, query, null, operation)
                    : new RequestTarget(Kind.NOT_FOUND, path, query, null, null);
        }
        return new RequestTarget(Kind.NOT_FOUND, path, query, null, null);
    }

    /** The operations whose second segment is a name too ({@code chat/completions}), not an id. */
    private static final String[] TWO_WORD = {"chat", "audio", "images", "realtime"};

    private static boolean twoWords(String operation, int slash) {
        for (String word : TWO_WORD) {
            if (slash == word.length() && operation.startsWith(word)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Azure OpenAI names its operations in lower case; every judgement here (the route's operations, which bodies are
     * read, which fields mean what) compares them so. {@code /openai/v1/Responses} would be read by none of them,
     * while a backend that folds case would serve it: such a target is no operation aigate knows (404). Ids after the
     * names ({@code files/{id}}, {@code threads/thread_AbC}) keep their case.
     */
    static boolean lowerCaseNames(String operation) {
        int slash = operation.indexOf('/');
        int firstEnd = slash < 0 ? operation.length() : slash;
        if (hasUpperCase(operation, 0, firstEnd)) {
            return false;
        }
        if (slash < 0 || !twoWords(operation, slash)) {
            return true;
        }
        int next = operation.indexOf('/', slash + 1);
        return !hasUpperCase(operation, slash + 1, next < 0 ? operation.length() : next);
    }

    /** Without a copy: this runs on every request. Paths are plain ASCII here ({@link #plainPath}). */
    private static boolean hasUpperCase(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return true;
            }
        }
        return false;
    }

    /** A classic path with its deployment segment replaced (a backend that names the deployment otherwise); else null. */
    static String withDeployment(String path, String deployment) {
        if (!path.startsWith(CLASSIC_PREFIX)) {
            return null;
        }
        int end = path.indexOf('/', CLASSIC_PREFIX.length());
        return end < 0 ? null : CLASSIC_PREFIX + deployment + path.substring(end);
    }

    static boolean validDeploymentName(String name) {
        // anything Azure would not accept as a name is refused, never matched to a route the backend reads otherwise
        return AigateConfig.Route.isDeploymentName(name) && !name.equals(".") && !name.equals("..");
    }

    private static RequestTarget invalid() {
        return new RequestTarget(Kind.INVALID, null, null, null, null);
    }

    /** Unreserved characters and {@code /} only: no escapes, no sub-delimiters, nothing to decode or split on. */
    static boolean plainPath(String raw) {
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (!((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.'
                    || c == '_'
                    || c == '~'
                    || c == '/')) {
                return false;
            }
        }
        return true;
    }

    private static boolean segmentsAreSafe(String path) {
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            int len = end - start;
            boolean last = end == path.length();
            if ((len == 0 && !last)
                    || (len == 1 && path.charAt(start) == '.')
                    || (len == 2 && path.charAt(start) == '.' && path.charAt(start + 1) == '.')) {
                return false;
            }
            start = end + 1;
        }
        return true;
    }
}
