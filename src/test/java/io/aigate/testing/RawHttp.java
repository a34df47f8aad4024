package io.aigate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * Sends bytes exactly as written, for what HTTP client libraries refuse or normalise: absolute-form targets, dot
 * segments, a forged Host header. Reads until the server closes or the timeout passes.
 */
public final class RawHttp {

    private RawHttp() {}

    public static String exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return answer(socket.getInputStream());
        }
    }

    /** One answer with a Content-Length, read from a connection the caller keeps open; what arrived on timeout. */
    public static String answer(InputStream in) throws IOException {
        {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    String text = out.toString(StandardCharsets.ISO_8859_1);
                    int headerEnd = text.indexOf("\r\n\r\n");
                    if (headerEnd > 0) {
                        int cl = text.toLowerCase().indexOf("content-length:");
                        if (cl > 0 && cl < headerEnd) {
                            int len = Integer.parseInt(text.substring(cl + 15, text.indexOf("\r\n", cl))
                                    .trim());
                            if (text.length() >= headerEnd + 4 + len) {
                                break;
                            }
                        }
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // keep-alive server: what arrived is the answer
            }
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    public static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    public static String body(String response) {
        int i = response.indexOf("\r\n\r\n");
        return i < 0 ? "" : response.substring(i + 4);
    }
}
