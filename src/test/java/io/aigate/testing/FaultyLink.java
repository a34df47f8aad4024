package io.aigate.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A TCP relay on loopback in front of the real Redis, to inject the faults a network does: a connection that goes
 * silent without closing (a load balancer dropping idle TCP), an answer that arrives late, a Redis that cannot be
 * reached. Redis itself stays real; only the wire between aigate and it misbehaves, and only when a test says so.
 */
public final class FaultyLink implements AutoCloseable {

    private final ServerSocket server;
    private final IntSupplier target;
    private final Set<Pipe> pipes = ConcurrentHashMap.newKeySet();
    private volatile List<String> holdTrigger;
    private volatile CountDownLatch held = new CountDownLatch(1);
    private volatile boolean cut;

    public FaultyLink(IntSupplier targetPort) {
        this.target = targetPort;
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Thread accept = new Thread(this::accept, "faulty-link-accept");
        accept.setDaemon(true);
        accept.start();
    }

    public String url() {
        return "redis://127.0.0.1:" + server.getLocalPort();
    }

    /**
     * Connections that ever sent every one of {@code sent} (case-insensitive) go silent in both directions, and stay
     * open: nothing is delivered and nothing says so. Later connections are untouched. Returns how many were hit.
     */
    public int silence(String... sent) {
        int n = 0;
        for (Pipe pipe : pipes) {
            if (pipe.sent(sent)) {
                pipe.silenced = true;
                n++;
            }
        }
        return n;
    }

    /** The answer to the next command that carries every one of {@code sent} is held back until {@link #release()}. */
    public void holdAnswerTo(String... sent) {
        held = new CountDownLatch(1);
        holdTrigger = List.of(sent);
    }

    /** Waits until an answer is being held: the command was sent and Redis answered it. */
    public boolean awaitHeld(long millis) throws InterruptedException {
        return held.await(millis, TimeUnit.MILLISECONDS);
    }

    public void release() {
        holdTrigger = null;
        for (Pipe pipe : pipes) {
            pipe.release();
        }
    }

    /** Every connection closes and new ones are closed at once, as if Redis were gone; {@link #mend()} undoes it. */
    public void cut() {
        cut = true;
        for (Pipe pipe : pipes) {
            pipe.close();
        }
    }

    public void mend() {
        cut = false;
    }

    @Override
    public void close() {
        cut();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (cut) {
                    client.close();
                    continue;
                }
                Socket upstream;
                try {
                    upstream = new Socket(InetAddress.getLoopbackAddress(), target.getAsInt());
                } catch (IOException e) {
                    client.close();
                    continue;
                }
                Pipe pipe = new Pipe(client, upstream);
                pipes.add(pipe);
                pipe.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private final class Pipe {
        private final Socket client;
        private final Socket upstream;
        private final StringBuilder sent = new StringBuilder();
        private final java.io.ByteArrayOutputStream heldBytes = new java.io.ByteArrayOutputStream();
        private volatile boolean silenced;
        private boolean holding;

        Pipe(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void start() {
            Thread up = new Thread(() -> pump(true), "faulty-link-up");
            Thread down = new Thread(() -> pump(false), "faulty-link-down");
            up.setDaemon(true);
            down.setDaemon(true);
            up.start();
            down.start();
        }

        synchronized boolean sent(String... parts) {
            String text = sent.toString().toUpperCase(java.util.Locale.ROOT);
            for (String part : parts) {
                if (!text.contains(part.toUpperCase(java.util.Locale.ROOT))) {
                    return false;
                }
            }
            return true;
        }

        private void pump(boolean toServer) {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = (toServer ? client : upstream).getInputStream()) {
                OutputStream out = (toServer ? upstream : client).getOutputStream();
                int n;
                while ((n = in.read(buffer)) > 0) {
                    if (silenced) {
                        continue;
                    }
                    synchronized (this) {
                        if (toServer) {
                            String chunk = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                            if (sent.length() < 65536) {
                                sent.append(chunk);
                            }
                            List<String> trigger = holdTrigger;
                            if (trigger != null && containsAll(chunk, trigger)) {
                                holdTrigger = null;
                                holding = true;
                            }
                        } else if (holding) {
                            heldBytes.write(buffer, 0, n);
                            held.countDown();
                            continue;
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException ignored) {
                // one side went away: so does the other
            }
            close();
        }

        synchronized void release() {
            if (holding) {
                holding = false;
                try {
                    client.getOutputStream().write(heldBytes.toByteArray());
                    client.getOutputStream().flush();
                } catch (IOException ignored) {
                    // the client left meanwhile
                }
                heldBytes.reset();
            }
        }

        void close() {
            pipes.remove(this);
            try {
                client.close();
            } catch (IOException ignored) {
                // already closed
            }
            try {
                upstream.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        private static boolean containsAll(String chunk, List<String> parts) {
            String text = chunk.toUpperCase(java.util.Locale.ROOT);
            return parts.stream().allMatch(p -> text.contains(p.toUpperCase(java.util.Locale.ROOT)));
        }
    }
}
