package io.aigate.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A backend on loopback that answers whatever bytes a test scripts, for what no HTTP server library would send: a
 * redirect to elsewhere, 101 or 102 as an answer, status 999. One answer per connection, then it closes. What it
 * received (request line and headers) is kept, so a test can prove a request never arrived.
 */
public final class HostileBackend implements AutoCloseable {

    private final ServerSocket server;
    private final ConcurrentLinkedQueue<String> scripted = new ConcurrentLinkedQueue<>();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private volatile String always;

    private HostileBackend(ServerSocket server) {
        this.server = server;
        Thread accept = new Thread(this::accept, "hostile-backend");
        accept.setDaemon(true);
        accept.start();
    }

    public static HostileBackend start() {
        try {
            return new HostileBackend(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** A plain answer: status line, headers, body with its length. */
    public static String answer(int status, String body, String... headerLines) {
        StringBuilder out = new StringBuilder("HTTP/1.1 " + status + " Scripted\r\n");
        for (String line : headerLines) {
            out.append(line).append("\r\n");
        }
        // one answer per connection, said, so a client does not pool it for the next request
        out.append("Connection: close\r\nContent-Type: application/json\r\nContent-Length: ")
                .append(body.getBytes(StandardCharsets.UTF_8).length)
                .append("\r\n\r\n")
                .append(body);
        return out.toString();
    }

    /** The next connections get these answers, in order; then {@link #answerAlways}'s, else a completion. */
    public void answerNext(String... raw) {
        scripted.addAll(List.of(raw));
    }

    public void answerAlways(String raw) {
        this.always = raw;
    }

    /** The request lines received, e.g. {@code POST /openai/deployments/x/chat/completions?… HTTP/1.1}. */
    public List<String> received() {
        return received;
    }

    public void clear() {
        scripted.clear();
        received.clear();
        always = null;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                Thread serve = new Thread(() -> serve(socket), "hostile-backend-conn");
                serve.setDaemon(true);
                serve.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            received.add(head.lines().findFirst().orElse(""));
            long length = contentLength(head);
            in.readNBytes((int) Math.max(0, length));
            String raw = scripted.poll();
            if (raw == null) {
                raw = always;
            }
            if (raw == null) {
                raw = answer(
                        200,
                        "{\"id\":\"c\",\"object\":\"chat.completion\",\"model\":\"gpt-4o\",\"choices\":[],"
                                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}");
            }
            socket.getOutputStream().write(raw.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            socket.shutdownOutput(); // one answer per connection: the client reads to its end, or resets it first
            while (in.read() >= 0) {
                // whatever the client still sends is dropped until it closes
            }
        } catch (IOException e) {
            // the client reset the connection: expected for answers it refuses
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        int b;
        while (matched < 4 && (b = in.read()) >= 0) {
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                return Long.parseLong(line.substring(15).trim());
            }
        }
        return 0;
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
    }
}
