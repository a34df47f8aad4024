package io.aigate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A Lua script shipped in the jar under {@code aigate/}, run with EVALSHA: the script travels in full only to a Redis
 * node that does not know it yet (after a restart, or a new cluster node). Everything aigate must check and change in
 * one step, with nothing slipping in between, is one of these.
 */
public final class RedisScript {

    private final String source;
    private final String sha;

    private RedisScript(String source) {
        this.source = source;
        this.sha = sha1(source);
    }

    /** {@code name} under {@code aigate/} on the class path, e.g. {@code subscription-change.lua}. */
    public static RedisScript load(String name) {
        try (InputStream in = RedisScript.class.getResourceAsStream("/aigate/" + name)) {
            if (in == null) {
                throw new IllegalStateException("aigate/" + name + " is missing from the build");
            }
            return new RedisScript(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs the script on {@code keys} with {@code args}. */
    public Future<Response> run(RedisAPI api, List<String> keys, List<String> args) {
        List<String> evalsha = new ArrayList<>(2 + keys.size() + args.size());
        evalsha.add(sha);
        evalsha.add(Integer.toString(keys.size()));
        evalsha.addAll(keys);
        evalsha.addAll(args);
        return api.evalsha(evalsha).recover(err -> {
            if (err.getMessage() == null || !err.getMessage().startsWith("NOSCRIPT")) {
                return Future.failedFuture(err);
            }
            List<String> eval = new ArrayList<>(evalsha);
            eval.set(0, source);
            return api.eval(eval);
        });
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
