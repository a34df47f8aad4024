package io.aigate.gateway;

/**
 * The request target, checked before anything else: only origin-form targets under {@code /openai/}, and only paths
 * that mean the same thing before and after percent-decoding, so a path can never step out of its route at the
 * backend ({@code ..}, encoded slashes, backslashes and control characters are refused).
 *
 * <p>Azure OpenAI has two path shapes: classic {@code /openai/deployments/{deployment}/…} (deployment in the path) and
 * v1 {@code /openai/v1/…} (deployment in the JSON body's {@code model}).
 */
record RequestTarget(Kind kind, String path, String query, String deployment) {

    enum Kind {
        CLASSIC, V1, NOT_FOUND, INVALID
    }

    private static final String CLASSIC_PREFIX = "/openai/deployments/";
    private static final String V1_PREFIX = "/openai/v1/";
    private static final int MAX_TARGET_LENGTH = 8192;

    static RequestTarget parse(String uri) {
        if (uri == null || uri.isEmpty() || uri.charAt(0) != '/' || uri.length() > MAX_TARGET_LENGTH) {
            return invalid(); // absolute-form, authority-form, asterisk-form: a sidecar has only one way in
        }
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? null : uri.substring(q + 1);
        int hash = query == null ? -1 : query.indexOf('#');
        if (hash >= 0 || path.indexOf('#') >= 0) {
            return invalid();
        }
        String decoded = decodeStrict(path);
        if (decoded == null || !segmentsAreSafe(decoded)) {
            return invalid();
        }
        if (decoded.startsWith(CLASSIC_PREFIX)) {
            int end = decoded.indexOf('/', CLASSIC_PREFIX.length());
            if (end < 0 || end == decoded.length() - 1) {
                return new RequestTarget(Kind.NOT_FOUND, path, query, null);
            }
            return new RequestTarget(Kind.CLASSIC, path, query, decoded.substring(CLASSIC_PREFIX.length(), end));
        }
        if (decoded.startsWith(V1_PREFIX) && decoded.length() > V1_PREFIX.length()) {
            return new RequestTarget(Kind.V1, path, query, null);
        }
        return new RequestTarget(Kind.NOT_FOUND, path, query, null);
    }

    private static RequestTarget invalid() {
        return new RequestTarget(Kind.INVALID, null, null, null);
    }

    /**
     * Decodes {@code %XX} and refuses what would let the backend see a different path than we matched: an encoded
     * {@code /}, {@code \}, {@code %} or control character, a malformed escape, or a raw character outside RFC 3986's
     * path characters.
     */
    static String decodeStrict(String raw) {
        StringBuilder out = null;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    return null;
                }
                int hi = Character.digit(raw.charAt(i + 1), 16);
                int lo = Character.digit(raw.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                char d = (char) (hi * 16 + lo);
                if (d == '/' || d == '\\' || d == '%' || d < 0x20 || d >= 0x7f) {
                    return null;
                }
                if (out == null) {
                    out = new StringBuilder(raw.length()).append(raw, 0, i);
                }
                out.append(d);
                i += 2;
            } else if (isPathChar(c)) {
                if (out != null) {
                    out.append(c);
                }
            } else {
                return null;
            }
        }
        return out == null ? raw : out.toString();
    }

    private static boolean isPathChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || "-._~!$&'()*+,;=:@/".indexOf(c) >= 0;
    }

    private static boolean segmentsAreSafe(String decoded) {
        int start = 1;
        while (start <= decoded.length()) {
            int end = decoded.indexOf('/', start);
            if (end < 0) {
                end = decoded.length();
            }
            int len = end - start;
            boolean last = end == decoded.length();
            if ((len == 0 && !last) || (len == 1 && decoded.charAt(start) == '.')
                    || (len == 2 && decoded.charAt(start) == '.' && decoded.charAt(start + 1) == '.')) {
                return false;
            }
            start = end + 1;
        }
        return true;
    }
}
