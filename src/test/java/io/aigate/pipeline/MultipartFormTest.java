package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MultipartFormTest {

    static final String TYPE = "multipart/form-data; boundary=b0undary";

    /** A form as httpx writes it: a file, the model, another field. */
    static String form(String modelPart) {
        return "--b0undary\r\n"
                + "Content-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                + "Content-Type: audio/wav\r\n\r\n"
                + "RIFF....\r\n"
                + modelPart
                + "--b0undary\r\n"
                + "Content-Disposition: form-data; name=\"response_format\"\r\n\r\n"
                + "json\r\n"
                + "--b0undary--\r\n";
    }

    static String model(String value) {
        return "--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n" + value + "\r\n";
    }

    static MultipartForm.Parsed parse(String type, String body) {
        return MultipartForm.parse(type, Buffer.buffer(body));
    }

    @Test
    void theModelIsReadOnceAsSent() {
        MultipartForm.Parsed parsed = parse(TYPE, form(model("gpt-roles")));
        assertTrue(parsed.ok(), parsed.problem());
        assertEquals("gpt-roles", parsed.form().model());
        assertEquals(List.of("file", "model", "response_format"), parsed.form().names());
        assertNull(parse(TYPE, form("")).form().model(), "a form without a model names none");
        assertEquals(
                "whisper",
                parse("Multipart/Form-Data; charset=utf-8; boundary=\"b0undary\"", form(model("whisper")))
                        .form()
                        .model());
        // okhttp writes each part's length; the JDK a trailing CRLF after the closing boundary, or none
        String okhttp = form("--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nwhisp\r\n");
        assertEquals("whisp", parse(TYPE, okhttp).form().model());
        String noTrailer = form(model("x1"));
        assertEquals(
                "x1",
                parse(TYPE, noTrailer.substring(0, noTrailer.length() - 2))
                        .form()
                        .model());
    }

    @Test
    void aRenameSplicesTheValueAndItsLengthOnly() {
        String okhttp = form("--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n"
                + "Content-Length: 5\r\n\r\nwhisp\r\n");
        Buffer body = Buffer.buffer(okhttp);
        MultipartForm form = MultipartForm.parse(TYPE, body).form();
        Buffer renamed = form.withModel(body, "east-whisper");
        assertEquals(
                okhttp.replace("Content-Length: 5\r\n\r\nwhisp", "Content-Length: 12\r\n\r\neast-whisper"),
                renamed.toString());
        MultipartForm.Parsed again = MultipartForm.parse(TYPE, renamed);
        assertTrue(again.ok(), again.problem());
        assertEquals("east-whisper", again.form().model());
        Buffer plain = Buffer.buffer(form(model("m")));
        assertEquals(
                form(model("other")),
                MultipartForm.parse(TYPE, plain)
                        .form()
                        .withModel(plain, "other")
                        .toString());
        assertNull(form.withModel(Buffer.buffer(okhttp), "x"), "only the very bytes the form was read from");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "multipart/form-data",
                "multipart/form-data; boundary=",
                "multipart/form-data; boundary=b0undary; boundary=other",
                "multipart/form-data; boundary=\"b0und\\\"ary\"",
                "multipart/form-data; boundary=b0undary ; x=y",
                "multipart/form-data; boundary=\"b0undary \"",
                "multipart/form-data; boundary=b0undary; boundary*=utf-8''b0undary",
                "multipart/form-data; boundary=b0undary;;",
                "multipart/form-data; boundary="
                        + "a234567890a234567890a234567890a234567890a234567890a234567890a2345678901",
            })
    void aBoundaryThatCannotBeReadOneWayIsRefused(String type) {
        assertNotNull(parse(type, form(model("gpt-roles"))).problem(), type);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                // the model twice, in any case, or hidden where one parser looks and another does not
                "M2|" + "--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o\r\n",
                "M2|" + "--b0undary\r\nContent-Disposition: form-data; name=\"MODEL\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"; filename=\"m\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\nContent-Type: application/json\r\n\r\n"
                        + "\"gpt-4o\"\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\nContent-Transfer-Encoding: base64\r\n"
                        + "\r\nZ3B0LTRv\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"x\"; name=\"model\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name*=utf-8''model\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"a\\\"; name=\"model\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\" model\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data;\r\n name=\"model\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\nContent-Length: 3\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"\nX: y\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: attachment; name=\"model\"\r\n\r\ngpt-4o\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\n"
                        + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                        + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                        + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"inner\"\r\nContent-Type: multipart/mixed; "
                        + "boundary=z\r\n\r\n--z\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o\r\n--z--\r\n",
                // the boundary string where one parser splits and another does not
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\na\n--b0undary\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\na\r\n--b0undaryX\r\n",
                "M|--b0undary \r\nContent-Disposition: form-data; name=\"x\"\r\n\r\na\r\n",
                "M|--b0undary\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\na--b0undary\r\n",
                "M|--b0undary\r\n\r\nno headers\r\n",
            })
    void aFormThatCannotBeReadOneWayIsRefused(String spec) {
        String part = spec.substring(spec.indexOf('|') + 1);
        String body = spec.startsWith("M2|") ? form(model("gpt-roles") + part) : form(part);
        assertNotNull(parse(TYPE, body).problem(), part);
    }

    @Test
    void whatSurroundsTheFormIsRefused() {
        String ok = form(model("gpt-roles"));
        assertNotNull(parse(TYPE, "preamble\r\n" + ok).problem(), "a preamble");
        assertNotNull(
                parse(TYPE, ok + "--b0undary\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nx\r\n")
                        .problem(),
                "parts after the closing boundary");
        assertNotNull(parse(TYPE, ok.replace("--b0undary--\r\n", "")).problem(), "no closing boundary");
        assertNotNull(parse(TYPE, ok.replace("\r\n", "\n")).problem(), "bare LF line ends");
        assertNotNull(parse(TYPE, "--b0undary--\r\n").problem(), "no parts");
        StringBuilder many = new StringBuilder();
        for (int i = 0; i <= MultipartForm.MAX_PARTS; i++) {
            many.append("--b0undary\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n");
        }
        assertNotNull(parse(TYPE, many + model("gpt-roles") + "--b0undary--").problem(), "too many parts");
        String longHeader = "--b0undary\r\nContent-Disposition: form-data; name=\"f\"; filename=\""
                + "x".repeat(MultipartForm.MAX_PART_HEADER_BYTES) + "\"\r\n\r\nv\r\n";
        assertNotNull(parse(TYPE, form(longHeader)).problem(), "a header block past its bound");
    }
}
