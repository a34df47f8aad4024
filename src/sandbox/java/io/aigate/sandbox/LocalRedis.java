package io.aigate.sandbox;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real Redis on loopback: {@code redis-server} from the PATH, else the binary bundled by embedded-redis. No data is
 * kept on disk, and the process dies with the JVM.
 */
public final class LocalRedis implements AutoCloseable {

    private final int port;
    private java.nio.file.Path dataDir;
    private Process process;
    private redis.embedded.RedisServer embedded;
    private String budgetSecret;

    public LocalRedis(int port) {
        this.port = port;
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port", e);
        }
    }

    /** Keeps data in this folder (append-only file), so a restart on the same port finds it again. */
    public LocalRedis persistentIn(java.nio.file.Path dir) {
        this.dataDir = dir;
        return this;
    }

    public LocalRedis start() {
        List<String> args = new java.util.ArrayList<>(List.of(
                "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--protected-mode", "yes"));
        args.addAll(
                dataDir == null
                        ? List.of("--appendonly", "no")
                        : List.of("--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir.toString()));
        Path binary = onPath("redis-server");
        try {
            if (binary != null) {
                var command = new java.util.ArrayList<String>();
                command.add(binary.toString());
                command.addAll(args);
                process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start();
                ProcessHandle handle = process.toHandle();
                Runtime.getRuntime().addShutdownHook(new Thread(handle::destroy));
            } else {
                var builder = redis.embedded.RedisServer.newRedisServer()
                        .port(port)
                        .bind("127.0.0.1")
                        .setting("save \"\"");
                if (dataDir == null) {
                    builder.setting("appendonly no");
                } else {
                    builder.setting("appendonly yes")
                            .setting("appendfsync always")
                            .setting("dir " + dataDir);
                }
                embedded = builder.build();
                embedded.start();
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot start Redis on port " + port, e);
        }
        awaitPort(port, Duration.ofSeconds(10));
        budgetSecret = installFunctions(url(), "standalone");
        return this;
    }

    /**
     * Installs the budget functions with the real CLI, as an operator would, but trusting the caller's clock: the
     * sandbox and the tests move time with their own clock. Returns the budget secret the library was installed with.
     */
    public static String installFunctions(String url, String clientType) {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        int exit = io.aigate.cli.KeysCli.execute(
                new java.io.PrintWriter(out, true),
                new java.io.PrintWriter(err, true),
                "--redis",
                url,
                "--redis-client-type",
                clientType,
                "--output",
                "json",
                "install-functions",
                "--trust-sidecar-clock");
        if (exit != 0) {
            throw new IllegalStateException("aigate keys install-functions failed: " + err);
        }
        return new io.vertx.core.json.JsonObject(out.toString()).getString("budgetSecret");
    }

    /** The secret the budget functions were installed with: the sidecars' ACL selector names it. */
    public String budgetSecret() {
        return budgetSecret;
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (embedded != null) {
            try {
                embedded.stop();
            } catch (IOException ignored) {
                // stopping a test Redis that is already gone
            }
        }
    }

    private static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/sbin")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    static void awaitPort(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        throw new IllegalStateException("nothing listens on 127.0.0.1:" + port + " after " + timeout);
    }
}
