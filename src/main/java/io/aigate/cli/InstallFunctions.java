package io.aigate.cli;

import io.aigate.redis.RedisFunctions;
import io.aigate.subscription.SubscriptionKeys;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code aigate keys install-functions}: loads the budget library on every primary (one on a standalone Redis, each
 * master of a cluster; replicas receive it from their primary). Idempotent: the secret of an installed library is kept,
 * so budgets and the sidecars' ACL stay valid, and a node that already has this build's code is left alone.
 */
@Command(
        name = "install-functions",
        description = "Install (or update) the Redis functions the sidecars keep token budgets with, and print the "
                + "budget selector their Redis user needs.")
final class InstallFunctions implements Callable<Integer> {

    @CommandLine.ParentCommand
    KeysCli parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--trust-sidecar-clock",
            hidden = true,
            description = "Tests only: the functions take the time from the caller instead of Redis.")
    boolean trustSidecarClock;

    @Override
    public Integer call() throws Exception {
        return parent.withRedis(spec, (redis, options, vertx, out) -> {
            List<RedisAPI> nodes = new ArrayList<>();
            if (options.getType() == RedisClientType.CLUSTER) {
                for (String node : primaries(parent.await(RedisAPI.api(redis).cluster(List.of("NODES")))
                        .toString())) {
                    nodes.add(RedisAPI.api(Redis.createClient(
                            vertx,
                            new RedisOptions(options)
                                    .setType(RedisClientType.STANDALONE)
                                    .setEndpoints(List.of(endpoint(options.getEndpoint(), node))))));
                }
            } else {
                nodes.add(RedisAPI.api(redis));
            }
            List<RedisFunctions.Installed> found = new ArrayList<>();
            String secret = null;
            for (RedisAPI node : nodes) {
                RedisFunctions.Installed installed = parent.await(RedisFunctions.installed(node));
                found.add(installed);
                if (secret == null && installed != null && installed.secret() != null) {
                    secret = installed.secret(); // one secret for the whole cluster: the sidecars have one ACL
                }
            }
            if (secret == null) {
                secret = RedisFunctions.newSecret(SubscriptionKeys.random());
            }
            String code = RedisFunctions.code(secret, trustSidecarClock);
            int loaded = 0;
            for (int i = 0; i < nodes.size(); i++) {
                if (found.get(i) == null || !code.equals(found.get(i).code())) {
                    parent.await(RedisFunctions.load(nodes.get(i), code));
                    loaded++;
                }
            }
            String selector = RedisFunctions.budgetSelector(secret);
            out.print(
                    "The aigate functions (version " + RedisFunctions.VERSION + ") are installed on " + nodes.size()
                            + (nodes.size() == 1 ? " node" : " nodes") + " (" + loaded + " loaded now).\n"
                            + "The sidecars' Redis user needs this budget selector (deploy/redis/sidecar.acl, "
                            + "with <budget-secret> replaced); keep it as secret as the user's password:\n"
                            + selector,
                    new JsonObject()
                            .put("library", RedisFunctions.LIBRARY)
                            .put("version", RedisFunctions.VERSION)
                            .put("nodes", nodes.size())
                            .put("loaded", loaded)
                            .put("budgetSecret", secret)
                            .put("budgetSelector", selector));
        });
    }

    /** The primaries' {@code host:port} in {@code CLUSTER NODES}: reachable, not failed. */
    static List<String> primaries(String clusterNodes) {
        List<String> primaries = new ArrayList<>();
        for (String line : clusterNodes.split("\n")) {
            String[] fields = line.trim().split(" ");
            if (fields.length < 3) {
                continue;
            }
            List<String> flags = List.of(fields[2].split(","));
            if (flags.contains("master") && !flags.contains("fail") && !flags.contains("noaddr")) {
                primaries.add(fields[1].split("[@,]")[0]);
            }
        }
        return primaries;
    }

    /** The configured endpoint (scheme, login) pointed at another node. */
    static String endpoint(String configured, String hostPort) throws URISyntaxException {
        URI uri = new URI(configured.split(",")[0].trim());
        int colon = hostPort.lastIndexOf(':');
        return new URI(
                        uri.getScheme(),
                        uri.getRawUserInfo() == null ? null : uri.getUserInfo(),
                        hostPort.substring(0, colon),
                        Integer.parseInt(hostPort.substring(colon + 1)),
                        uri.getPath(),
                        null,
                        null)
                .toString();
    }
}
