package io.aigate.testing;

import io.aigate.sandbox.LocalRedis;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of three masters on loopback: three {@code redis-server --cluster-enabled yes} on free ports,
 * joined by {@code redis-cli --cluster create}, as a platform team would run one (Azure Cache for Redis clustered tiers
 * behave the same for a client: MOVED redirections, one hash slot per multi-key script).
 */
public final class LocalRedisCluster implements AutoCloseable {

    private final List<Process> nodes = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();
    private final Path dir;
    private String budgetSecret;

    private final String server;
    private final String cli;

    /** Fails the test with one sentence when no redis-server and redis-cli are installed (embedded-redis has none). */
    public LocalRedisCluster() throws IOException {
        this.server = RedisOnPath.server(5, "a cluster of three redis-server --cluster-enabled yes")
                .toString();
        this.cli = RedisOnPath.cli("redis-cli --cluster create joins the nodes").toString();
        this.dir = Files.createTempDirectory("aigate-redis-cluster");
    }

    public LocalRedisCluster start() throws Exception {
        for (int i = 0; i < 3; i++) {
            int port = LocalRedis.freePort();
            Path nodeDir = Files.createDirectories(dir.resolve("node-" + port));
            Process p = new ProcessBuilder(
                            server,
                            "--port",
                            Integer.toString(port),
                            "--bind",
                            "127.0.0.1",
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            nodeDir.resolve("nodes.conf").toString(),
                            "--dir",
                            nodeDir.toString(),
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--protected-mode",
                            "yes")
                    .redirectErrorStream(true)
                    .redirectOutput(nodeDir.resolve("log.txt").toFile())
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(p.toHandle()::destroy));
            nodes.add(p);
            ports.add(port);
        }
        for (int port : ports) {
            awaitPort(port);
        }
        List<String> create = new ArrayList<>(List.of(cli, "--cluster", "create"));
        ports.forEach(p -> create.add("127.0.0.1:" + p));
        create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
        Process join = new ProcessBuilder(create).redirectErrorStream(true).start();
        String output = new String(join.getInputStream().readAllBytes());
        if (!join.waitFor(60, TimeUnit.SECONDS) || join.exitValue() != 0) {
            throw new IllegalStateException("redis-cli --cluster create failed: " + output);
        }
        // the cluster is usable once every node agrees all 16384 slots are served
        Await.until("cluster_state:ok", Duration.ofSeconds(30), this::clusterOk);
        budgetSecret = LocalRedis.installFunctions(url(), "cluster");
        return this;
    }

    private boolean clusterOk() throws Exception {
        for (int port : ports) {
            Process info = new ProcessBuilder(cli, "-p", Integer.toString(port), "cluster", "info")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(info.getInputStream().readAllBytes());
            info.waitFor();
            if (!out.contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    /** A connection string naming one node; the client discovers the others from it. */
    public String url() {
        return "redis://127.0.0.1:" + ports.get(0);
    }

    /** The secret the budget functions were installed with on every master. */
    public String budgetSecret() {
        return budgetSecret;
    }

    public List<Integer> ports() {
        return List.copyOf(ports);
    }

    /** Keys held by one node (DBSIZE), to show that data spreads over the masters. */
    public long keysOn(int port) throws Exception {
        Process p = new ProcessBuilder(cli, "-p", Integer.toString(port), "dbsize").start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return Long.parseLong(out);
    }

    private static void awaitPort(int port) throws Exception {
        Await.until("redis-server listening on " + port, Duration.ofSeconds(10), () -> {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Override
    public void close() {
        for (Process p : nodes) {
            p.destroy();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
