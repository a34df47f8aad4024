package io.aigate.pipeline;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one reading of a {@code multipart/form-data} body (RFC 7578), strict so that aigate and the backend cannot read
 * one form two ways. On the v1 API the form's {@code model} field names the deployment (audio transcriptions and
 * translations, image edits and variations), so it is read here once and judged as the JSON {@code model} is.
 *
 * <p>Whatever parsers disagree on is refused rather than interpreted: a preamble, transport padding, bare LF line
 * ends, folded or unknown part headers, {@code Content-Transfer-Encoding}, a part {@code Content-Length} that is not
 * the part's length, a quoted parameter with a backslash, {@code name*}, a repeated parameter, a form field name
 * outside {@code A-Z a-z 0-9 _ . - [ ]}, a boundary string anywhere but at a delimiter, and a {@code model} field
 * that repeats (in any case), carries a file name or a media type other than text, or is longer than a name can be.
 * Each bound (parts, header bytes per part, the model's size) is far above what an SDK sends.
 */
public final class MultipartForm {

    static final int MAX_PARTS = 128;
    static final int MAX_PART_HEADER_BYTES = 4096;
    static final int MAX_MODEL_BYTES = 256;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] HEADERS_END = {'\r', '\n', '\r', '\n'};

    /** A form read one way only, or the reason it cannot be (a fixed text: nothing the caller sent is echoed). */
    public record Parsed(MultipartForm form, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    private final Buffer source;
    private final String model;
    private final int modelStart;
    private final int modelEnd;
    /** Where the model part's own {@code Content-Length} value is, or -1: a rename rewrites it too. */
    private final int lengthStart;

    private final int lengthEnd;
    private final List<String> names;

    private MultipartForm(
            Buffer source, String model, int modelStart, int modelEnd, int lengthStart, int lengthEnd, List<String> n) {
        this.source = source;
        this.model = model;
        this.modelStart = modelStart;
        this.modelEnd = modelEnd;
        this.lengthStart = lengthStart;
        this.lengthEnd = lengthEnd;
        this.names = List.copyOf(n);
    }

    /** The {@code model} field's value as sent, or null when the form has none. */
    public String model() {
        return model;
    }

    /** Every field name of the form, in order, as sent. */
    public List<String> names() {
        return names;
    }

    /** Whether a {@code Content-Type} is {@code multipart/form-data} (its parameters aside). */
    public static boolean declared(String contentType) {
        if (contentType == null) {
            return false;
        }
        int end = contentType.indexOf(';');
        return (end < 0 ? contentType : contentType.substring(0, end)).trim().equalsIgnoreCase("multipart/form-data");
    }

    public static Parsed parse(String contentType, Buffer body) {
        String boundary = boundary(contentType);
        if (boundary == null) {
            return refused("The multipart/form-data body needs exactly one boundary parameter aigate can read: "
                    + "1 to 70 letters, digits or '()+_,-./:=?.");
        }
        try {
            return new Reader(body, boundary).read();
        } catch (Unreadable e) {
            return refused(e.getMessage());
        }
    }

    /**
     * The body with its {@code model} replaced, for a pool member that names the deployment otherwise: the same bytes
     * with the value (and the part's own {@code Content-Length}, if it sent one) spliced, so nothing else changes.
     *
     * @return null when the body is not the one this form was read from
     */
    public Buffer withModel(Buffer body, String renamed) {
        if (body != source || model == null) {
            return null;
        }
        byte[] name = renamed.getBytes(StandardCharsets.US_ASCII);
        Buffer out = Buffer.buffer(body.length() + name.length + 8);
        if (lengthStart >= 0) {
            out.appendBuffer(body, 0, lengthStart)
                    .appendString(Integer.toString(name.length))
                    .appendBuffer(body, lengthEnd, modelStart - lengthEnd);
        } else {
            out.appendBuffer(body, 0, modelStart);
        }
        return out.appendBytes(name).appendBuffer(body, modelEnd, body.length() - modelEnd);
    }

    /** RFC 2046's boundary, bchars without space (which a trimming parser would read otherwise); null if unreadable. */
    static String boundary(String contentType) {
        if (!declared(contentType)) {
            return null;
        }
        int semi = contentType.indexOf(';');
        if (semi < 0) {
            return null;
        }
        String boundary = null;
        List<String[]> params;
        try {
            params = parameters(contentType.substring(semi + 1), false);
        } catch (Unreadable e) {
            return null;
        }
        for (String[] p : params) {
            if (p[0].equals("boundary")) {
                if (boundary != null) {
                    return null; // two boundaries: which one does the backend split on?
                }
                boundary = p[1];
            } else if (!p[0].equals("charset")) {
                return null;
            }
        }
        if (boundary == null || boundary.isEmpty() || boundary.length() > 70) {
            return null;
        }
        for (int i = 0; i < boundary.length(); i++) {
            char c = boundary.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                    && "'()+_,-./:=?".indexOf(c) < 0) {
                return null;
            }
        }
        return boundary;
    }

    /**
     * {@code ; name=value} pairs, names in lower case, values unquoted. Quoted strings may not hold a backslash
     * (parsers disagree on escapes, and so on where the string ends); a name may appear once.
     *
     * @param utf8 whether values may hold non-ASCII bytes (a file name); control characters never
     */
    private static List<String[]> parameters(String text, boolean utf8) {
        List<String[]> out = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                i++;
            }
            if (i == n) {
                break;
            }
            int eq = text.indexOf('=', i);
            if (eq < 0) {
                throw new Unreadable("A part header parameter has no value.");
            }
            String name = text.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            if (!token(name)) {
                throw new Unreadable("A part header parameter name cannot be read.");
            }
            i = eq + 1;
            String value;
            if (i < n && text.charAt(i) == '"') {
                int close = text.indexOf('"', i + 1);
                if (close < 0) {
                    throw new Unreadable("A quoted part header parameter does not end.");
                }
                value = text.substring(i + 1, close);
                if (value.indexOf('\\') >= 0) {
                    throw new Unreadable(
                            "A quoted part header parameter holds a backslash, which parsers read " + "differently.");
                }
                i = close + 1;
            } else {
                int semi = text.indexOf(';', i);
                value = text.substring(i, semi < 0 ? n : semi).trim();
                if (!token(value)) {
                    throw new Unreadable("An unquoted part header parameter cannot be read.");
                }
                i = semi < 0 ? n : semi;
            }
            for (int k = 0; k < value.length(); k++) {
                char c = value.charAt(k);
                if (c < 0x20 || c == 0x7f || (!utf8 && c > 0x7e)) {
                    throw new Unreadable("A part header parameter holds a character aigate does not read.");
                }
            }
            for (String[] p : out) {
                if (p[0].equals(name)) {
                    throw new Unreadable("A part header names a parameter more than once.");
                }
            }
            out.add(new String[] {name, value});
            while (i < n && (text.charAt(i) == ' ' || text.charAt(i) == '\t')) {
                i++;
            }
            if (i < n) {
                if (text.charAt(i) != ';') {
                    throw new Unreadable("Part header parameters must be separated by ';'.");
                }
                i++;
            }
        }
        return out;
    }

    private static boolean token(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c >= 0x7f || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    /** A form field name as SDKs write them ({@code file}, {@code image[]}, {@code timestamp_granularities[]}). */
    private static boolean fieldName(String s) {
        if (s.isEmpty() || s.length() > 128) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                    && "_.-[]".indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    private static Parsed refused(String problem) {
        return new Parsed(null, problem);
    }

    /** Thrown inside the reader only; always carries a fixed text. */
    private static final class Unreadable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unreadable(String message) {
            super(message, null, false, false);
        }
    }

    private static final class Reader {
        private final Buffer source;
        private final byte[] body;
        private final byte[] delimiter;
        private final List<String> names = new ArrayList<>();
        private String model;
        private int modelStart = -1;
        private int modelEnd = -1;
        private int lengthStart = -1;
        private int lengthEnd = -1;

        Reader(Buffer source, String boundary) {
            this.source = source;
            this.body = source.getBytes();
            this.delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        }

        Parsed read() {
            if (!startsWith(0, delimiter)) {
                throw new Unreadable("The multipart/form-data body must begin with its boundary (no preamble).");
            }
            int pos = delimiter.length;
            while (true) {
                if (startsWith(pos, new byte[] {'-', '-'})) {
                    int rest = body.length - (pos + 2);
                    if (rest != 0 && !(rest == 2 && startsWith(pos + 2, CRLF))) {
                        throw new Unreadable("The multipart/form-data body goes on after its closing boundary.");
                    }
                    if (names.isEmpty()) {
                        throw new Unreadable("The multipart/form-data body has no parts.");
                    }
                    return new Parsed(
                            new MultipartForm(source, model, modelStart, modelEnd, lengthStart, lengthEnd, names),
                            null);
                }
                if (!startsWith(pos, CRLF)) {
                    throw new Unreadable("A multipart boundary must be followed by CRLF or '--'.");
                }
                if (names.size() == MAX_PARTS) {
                    throw new Unreadable("The multipart/form-data body has more than " + MAX_PARTS + " parts.");
                }
                int start = pos + 2;
                int next = indexOf(delimiter, start, body.length);
                if (next < 0) {
                    throw new Unreadable("The multipart/form-data body does not end with its closing boundary.");
                }
                if (next < start + 2 || !startsWith(next - 2, CRLF)) {
                    // the boundary string inside a part, not after CRLF: one parser splits there, another does not
                    throw new Unreadable("The boundary appears inside a part.");
                }
                part(start, next - 2);
                pos = next + delimiter.length;
            }
        }

        /** One part: its headers up to the blank line, its content up to the CRLF before the next delimiter. */
        private void part(int start, int end) {
            int headersEnd = indexOf(HEADERS_END, start, Math.min(end, start + MAX_PART_HEADER_BYTES));
            int contentStart = headersEnd + 4;
            if (headersEnd < 0 || contentStart > end) {
                // (a part with no header at all has no name either)
                throw new Unreadable("A part's headers cannot be read within " + MAX_PART_HEADER_BYTES + " bytes.");
            }
            String disposition = null;
            String type = null;
            int declaredLength = -1;
            int lineStart = start;
            int partLengthStart = -1;
            int partLengthEnd = -1;
            while (lineStart < headersEnd + 2) {
                int lineEnd = indexOf(CRLF, lineStart, headersEnd + 2);
                String line = headerLine(lineStart, lineEnd);
                int colon = line.indexOf(':');
                if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                    throw new Unreadable("A part header line cannot be read (folded, or without a name).");
                }
                String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                switch (name) {
                    case "content-disposition" -> {
                        if (disposition != null) {
                            throw new Unreadable("A part names its Content-Disposition more than once.");
                        }
                        disposition = value;
                    }
                    case "content-type" -> {
                        if (type != null) {
                            throw new Unreadable("A part names its Content-Type more than once.");
                        }
                        type = value;
                    }
                    case "content-length" -> {
                        if (declaredLength >= 0
                                || value.isEmpty()
                                || value.length() > 10
                                || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                            throw new Unreadable("A part's Content-Length cannot be read.");
                        }
                        declaredLength = Integer.parseInt(value);
                        partLengthStart = lineStart + line.indexOf(value, colon);
                        partLengthEnd = partLengthStart + value.length();
                    }
                    default ->
                        throw new Unreadable("A part carries a header aigate does not read (only "
                                + "Content-Disposition, Content-Type and Content-Length).");
                }
                lineStart = lineEnd + 2;
            }
            if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/")) {
                throw new Unreadable("A part may not be multipart itself.");
            }
            if (declaredLength >= 0 && declaredLength != end - contentStart) {
                throw new Unreadable("A part's Content-Length is not its length.");
            }
            if (disposition == null) {
                throw new Unreadable("A part has no Content-Disposition.");
            }
            int semi = disposition.indexOf(';');
            if (semi < 0 || !disposition.substring(0, semi).trim().equalsIgnoreCase("form-data")) {
                throw new Unreadable("A part's Content-Disposition must be form-data with a name.");
            }
            String field = null;
            boolean file = false;
            for (String[] p : parameters(disposition.substring(semi + 1), true)) {
                switch (p[0]) {
                    case "name" -> field = p[1];
                    case "filename" -> file = true;
                    default ->
                        throw new Unreadable("A part's Content-Disposition has a parameter aigate does not "
                                + "read (only name and filename).");
                }
            }
            if (field == null || !fieldName(field)) {
                throw new Unreadable("A form field name must be letters, digits, '_', '.', '-', '[' or ']'.");
            }
            names.add(field);
            if (!field.equalsIgnoreCase("model")) {
                return;
            }
            if (!field.equals("model")) {
                // a backend that binds names without regard to case reads it; one that does not, another model
                throw new Unreadable("The form's model field must be spelled model.");
            }
            if (model != null) {
                throw new Unreadable("The form names its model more than once.");
            }
            if (file || (type != null && !plainText(type))) {
                throw new Unreadable("The form's model must be a plain text field (no file name, no media type but "
                        + "text/plain).");
            }
            if (end - contentStart > MAX_MODEL_BYTES) {
                throw new Unreadable("The form's model is longer than " + MAX_MODEL_BYTES + " bytes.");
            }
            model = new String(body, contentStart, end - contentStart, StandardCharsets.ISO_8859_1);
            modelStart = contentStart;
            modelEnd = end;
            lengthStart = partLengthStart;
            lengthEnd = partLengthEnd;
        }

        private static boolean plainText(String type) {
            String t = type.toLowerCase(Locale.ROOT).replace(" ", "");
            return t.equals("text/plain")
                    || t.equals("text/plain;charset=utf-8")
                    || t.equals("text/plain;charset=us-ascii");
        }

        /** A header line: ASCII or UTF-8 text, no control characters (a bare CR or LF included). */
        private String headerLine(int start, int end) {
            for (int i = start; i < end; i++) {
                int b = body[i] & 0xff;
                if ((b < 0x20 && b != '\t') || b == 0x7f) {
                    throw new Unreadable("A part header holds a control character (a bare CR or LF included).");
                }
            }
            return new String(body, start, end - start, StandardCharsets.UTF_8);
        }

        private boolean startsWith(int at, byte[] what) {
            if (at < 0 || at + what.length > body.length) {
                return false;
            }
            for (int i = 0; i < what.length; i++) {
                if (body[at + i] != what[i]) {
                    return false;
                }
            }
            return true;
        }

        /** The first place {@code what} begins at or after {@code from} and ends by {@code to}, or -1. */
        private int indexOf(byte[] what, int from, int to) {
            byte first = what[0];
            for (int i = from, last = Math.min(to, body.length) - what.length; i <= last; i++) {
                if (body[i] == first && startsWith(i, what)) {
                    return i;
                }
            }
            return -1;
        }
    }
}
