package io.aigate.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * aigate's Redis 7 function library ({@code aigate/functions.lua}): the only code that moves a token budget. The key
 * administrators install it ({@code aigate keys install-functions}); sidecars call it with FCALL and cannot run a
 * script of their own, load a library or write a budget key.
 *
 * <p>Budget keys end in a secret chosen at the first install and kept by every later one: it lives in the library's
 * code (which only an administrator can read) and in the sidecars' ACL selector {@link #budgetSelector}. Redis checks
 * the commands a function runs against its caller's rules, so the sidecar's user must be allowed to write budget keys;
 * the selector allows it only on names that end in the secret, which a sidecar never learns: it can move a budget only
 * through the function, which decides every name itself.
 */
public final class RedisFunctions {

    public static final String LIBRARY = "aigate";
    /** The version of the code this build ships (the library's {@code VERSION}). */
    public static final int VERSION = 1;
    /** The budget function this build calls; a changed contract gets a new name beside it. */
    public static final String TOKEN_LIMIT = "aigate_token_limit_v1";

    private static final String TEMPLATE = read("functions.lua");
    private static final Pattern SECRET = Pattern.compile("local SECRET = '([0-9a-f]{32})'");
    private static final Pattern INSTALLED_VERSION = Pattern.compile("local VERSION = (\\d+)");

    private RedisFunctions() {}

    /** Why a budget could not be moved: the library, or the sidecar's right to call it, is not in place. */
    public static final class NotInstalled extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotInstalled(String message) {
            super(message, null, false, false);
        }
    }

    /** The library's code for an installation's secret; {@code sidecarClock} only for a test clock. */
    public static String code(String secret, boolean sidecarClock) {
        if (!secret.matches("[0-9a-f]{32}")) {
            throw new IllegalArgumentException("the budget secret must be 32 lowercase hex digits");
        }
        return TEMPLATE.replace("@SECRET@", secret).replace("@SIDECAR_CLOCK@", Boolean.toString(sidecarClock));
    }

    /**
     * The ACL selector that lets the sidecars' user keep budgets, and only through the library: the three commands the
     * function runs, on keys whose names end in the secret. Part of {@code deploy/redis/sidecar.acl}.
     */
    public static String budgetSelector(String secret) {
        return "(+hmget +hset +pexpire ~" + RedisSchema.PREFIX + "limit:*:" + secret + ")";
    }

    /** A new secret, 128 bits from the caller's generator. */
    public static String newSecret(java.security.SecureRandom random) {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** What a node has installed: its secret and version, or null for a node without the library. */
    public record Installed(String secret, int version, String code) {}

    /** The installed library on one node ({@code FUNCTION LIST LIBRARYNAME aigate WITHCODE}), or null. */
    public static Future<Installed> installed(RedisAPI node) {
        return node.function(List.of("LIST", "LIBRARYNAME", LIBRARY, "WITHCODE"))
                .map(list -> {
                    for (Response library : list) {
                        if (!LIBRARY.equals(library.get("library_name").toString())) {
                            continue; // LIBRARYNAME matches a pattern: aigate2 would match too
                        }
                        String code = library.get("library_code").toString();
                        Matcher secret = SECRET.matcher(code);
                        Matcher version = INSTALLED_VERSION.matcher(code);
                        return new Installed(
                                secret.find() ? secret.group(1) : null,
                                version.find() ? Integer.parseInt(version.group(1)) : 0,
                                code);
                    }
                    return null;
                });
    }

    /** Loads the library on one node, replacing what is there (idempotent: the same code loads the same way). */
    public static Future<Void> load(RedisAPI node, String code) {
        return node.function(List.of("LOAD", "REPLACE", code)).mapEmpty();
    }

    /** Calls a library function; a missing library or a refused call becomes one sentence saying what to run. */
    public static Future<Response> call(RedisAPI api, String function, List<String> keys, List<String> args) {
        List<String> fcall = new ArrayList<>(2 + keys.size() + args.size());
        fcall.add(function);
        fcall.add(Integer.toString(keys.size()));
        fcall.addAll(keys);
        fcall.addAll(args);
        return api.fcall(fcall).recover(err -> {
            String message = String.valueOf(err.getMessage());
            if (message.startsWith("ERR Function not found")) {
                return Future.failedFuture(new NotInstalled("Redis has no " + function + " (aigate library version "
                        + VERSION + "): run `aigate keys install-functions` as the key administrators' user"));
            }
            if (message.startsWith("NOPERM")) {
                return Future.failedFuture(new NotInstalled("Redis refused " + function + " to this user ("
                        + message.split("\n")[0] + "): give the sidecars' user the rule of deploy/redis/sidecar.acl"
                        + " with the budget secret `aigate keys install-functions` printed"));
            }
            return Future.failedFuture(err);
        });
    }

    private static String read(String name) {
        try (InputStream in = RedisFunctions.class.getResourceAsStream("/aigate/" + name)) {
            if (in == null) {
                throw new IllegalStateException("aigate/" + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
