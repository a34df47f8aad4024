package io.aigate.cli;

import io.aigate.identity.EntraToken;
import io.aigate.pipeline.Errors;
import io.aigate.redis.AuthenticatedRedis;
import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionStore;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code aigate keys …}: subscription keys in the same Redis, with the same connection settings, as the sidecar.
 * Keys are printed once, at creation or rotation, and never again: Redis holds only their SHA-256. Every change is
 * published on the invalidation channel, so every aigate instance drops its cached copy within moments. Every change
 * is one guarded, field-level write in Redis: commands run at once by two admins never lose each other's change.
 *
 * <p>Exit codes: {@link ExitCode}. {@code --output json} prints one JSON document per run, for scripts.
 */
@Command(
        name = "aigate keys",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Administer aigate subscription keys in Redis.",
        subcommands = {
            CreateCommand.class,
            ReadCommands.ListCommand.class,
            ReadCommands.ShowCommand.class,
            ChangeCommands.Rotate.class,
            ChangeCommands.Limits.class,
            ChangeCommands.Suspend.class,
            ChangeCommands.Activate.class,
            ChangeCommands.Revoke.class,
            ChangeCommands.Delete.class,
            InstallFunctions.class
        })
public class KeysCli {

    static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    @Option(
            names = "--output",
            paramLabel = "FORMAT",
            defaultValue = "text",
            description = "text (sentences for people) or json (one document, for scripts).")
    String output;

    @Option(
            names = "--redis",
            paramLabel = "URL",
            description = "Redis URL (redis:// or rediss:// for TLS). Default: quarkus.redis.hosts from the same "
                    + "configuration the sidecar reads (./config/application.properties, the packed file, env).")
    String redisUrl;

    @Option(
            names = "--redis-password-env",
            paramLabel = "VAR",
            description = "Environment variable holding the Redis password (default: quarkus.redis.password).")
    String passwordEnv;

    @Option(
            names = "--redis-client-type",
            paramLabel = "TYPE",
            description = "standalone or cluster (default: quarkus.redis.client-type, else standalone).")
    String clientType;

    @Option(
            names = "--redis-credential",
            paramLabel = "CREDENTIAL",
            description = "password | managed-identity (this pod's identity, as the sidecar logs in) | azure-cli "
                    + "(your az login, on a workstation). Default: aigate.redis.credential. With an Entra token, "
                    + "the identity needs the admin access policy, which sidecars do not have.")
    String redisCredential;

    @Option(
            names = "--redis-user",
            paramLabel = "USER",
            description = "Redis user for an Entra token (default: aigate.redis.user, else the token's object id).")
    String redisUser;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10", description = "Per-operation timeout.")
    long timeoutSeconds;

    /** Runs the CLI; returns the exit code. */
    public static int execute(String... args) {
        return execute(
                new PrintWriter(
                        new java.io.OutputStreamWriter(System.out, java.nio.charset.StandardCharsets.UTF_8), true),
                new PrintWriter(
                        new java.io.OutputStreamWriter(System.err, java.nio.charset.StandardCharsets.UTF_8), true),
                args);
    }

    /** Runs the CLI with the given output streams; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new KeysCli());
        cli.setOut(out);
        cli.setErr(err);
        KeysCli root = cli.getCommand();
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            Failure failure = cause instanceof Failure f
                    ? f
                    : new Failure(
                            ExitCode.UNREACHABLE,
                            "error: " + cause.getClass().getSimpleName()
                                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
            line.getErr().println(Output.failure(failure.getMessage(), failure.exit, root.json()));
            return failure.exit.code;
        });
        cli.setParameterExceptionHandler((ex, params) -> {
            ex.getCommandLine().getErr().println(Output.failure(ex.getMessage(), ExitCode.USAGE, root.json()));
            return ExitCode.USAGE.code;
        });
        return cli.execute(args);
    }

    /** A failure with its exit code and a message for people. */
    static final class Failure extends RuntimeException {
        final ExitCode exit;

        Failure(ExitCode exit, String message) {
            super(message);
            this.exit = exit;
        }
    }

    boolean json() {
        return "json".equalsIgnoreCase(output);
    }

    // ---- plumbing shared by the subcommands

    interface Action {
        void run(SubscriptionStore store, Output out) throws Exception;
    }

    /** What a command does with the connection itself: the client, and the options each node is reached with. */
    interface RedisAction {
        void run(Redis redis, RedisOptions options, Vertx vertx, Output out) throws Exception;
    }

    int withStore(CommandLine.Model.CommandSpec spec, Action action) throws Exception {
        return withRedis(spec, (redis, options, vertx, out) -> {
            SubscriptionStore store = new SubscriptionStore(redis, TimeUnit.SECONDS.toMillis(timeoutSeconds));
            action.run(store, out);
        });
    }

    int withRedis(CommandLine.Model.CommandSpec spec, RedisAction action) throws Exception {
        if (!json() && !"text".equalsIgnoreCase(output)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--output must be text or json");
        }
        SmallRyeConfig config = configuration();
        String url = redisUrl != null
                ? redisUrl
                : config.getOptionalValue("quarkus.redis.hosts", String.class).orElse("redis://localhost:6379");
        RedisOptions options =
                new RedisOptions().setConnectionString(url).setMaxPoolSize(4).setMaxWaitingHandlers(64);
        String type = clientType != null
                ? clientType
                : config.getOptionalValue("quarkus.redis.client-type", String.class)
                        .orElse("standalone");
        switch (type.toLowerCase(java.util.Locale.ROOT)) {
            case "standalone" -> options.setType(RedisClientType.STANDALONE);
            case "cluster" -> options.setType(RedisClientType.CLUSTER);
            default ->
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--redis-client-type must be standalone or cluster");
        }
        String credential = redisCredential != null
                ? redisCredential
                : config.getOptionalValue("aigate.redis.credential", String.class)
                        .orElse("password");
        Vertx vertx = Vertx.vertx();
        try {
            switch (credential.toLowerCase(java.util.Locale.ROOT)) {
                case "password" -> {
                    String password = passwordEnv != null
                            ? System.getenv(passwordEnv)
                            : config.getOptionalValue("quarkus.redis.password", String.class)
                                    .orElse(null);
                    if (password != null && !password.isEmpty()) {
                        options.setPassword(password);
                    }
                }
                case "managed-identity", "azure-cli" -> {
                    String resource = config.getOptionalValue("aigate.redis.resource", String.class)
                            .orElse("https://redis.azure.com");
                    String token;
                    try {
                        token = credential.equalsIgnoreCase("azure-cli")
                                ? EntraToken.fetchOnceFromAzureCli(resource)
                                : EntraToken.fetchOnce(
                                        resource,
                                        config.getOptionalValue("aigate.redis.client-id", String.class),
                                        vertx);
                    } catch (RuntimeException e) {
                        throw new Failure(
                                ExitCode.UNREACHABLE, "cannot get an Entra token for Redis: " + Errors.describe(e));
                    }
                    String user = redisUser != null
                            ? redisUser
                            : config.getOptionalValue("aigate.redis.user", String.class)
                                    .or(() -> EntraToken.objectId(token))
                                    .orElseThrow(
                                            () -> new Failure(
                                                    ExitCode.USAGE,
                                                    "the Entra token names no object id: give --redis-user (the identity's object id)"));
                    options.setEndpoints(options.getEndpoints().stream()
                            .map(endpoint -> AuthenticatedRedis.withLogin(endpoint, user, token))
                            .toList());
                }
                default ->
                    throw new CommandLine.ParameterException(
                            spec.commandLine(), "--redis-credential must be password, managed-identity or azure-cli");
            }
            Redis redis = Redis.createClient(vertx, options);
            SubscriptionStore store = new SubscriptionStore(redis, TimeUnit.SECONDS.toMillis(timeoutSeconds));
            try {
                await(store.ping());
            } catch (Exception e) {
                throw new Failure(
                        ExitCode.UNREACHABLE, "cannot reach Redis at " + redacted(url) + ": " + Errors.describe(e));
            }
            action.run(redis, options, vertx, new Output(spec.commandLine().getOut(), json()));
            return ExitCode.DONE.code;
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        }
    }

    <T> T await(Future<T> future) throws Exception {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeoutSeconds + 1, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new Failure(ExitCode.UNREACHABLE, "Redis did not answer within " + timeoutSeconds + " s");
        }
    }

    Subscription existing(SubscriptionStore store, String id) throws Exception {
        Subscription subscription = await(store.get(id));
        if (subscription == null) {
            throw new Failure(ExitCode.NOT_FOUND, "no subscription '" + id + "'");
        }
        return subscription;
    }

    /** The sidecar's own configuration sources, without starting it: env, ./config/application.properties, packed file. */
    static SmallRyeConfig configuration() {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .addDefaultSources()
                .withProfile("prod");
        URL packed = KeysCli.class.getClassLoader().getResource("application.properties");
        try {
            if (packed != null) {
                builder.withSources(new PropertiesConfigSource(packed, 250));
            }
            Path mounted = Path.of("config", "application.properties");
            if (Files.isReadable(mounted)) {
                builder.withSources(new PropertiesConfigSource(mounted.toUri().toURL(), 260));
            }
        } catch (IOException e) {
            throw new Failure(ExitCode.UNREACHABLE, "cannot read configuration: " + e.getMessage());
        }
        return builder.build();
    }

    static String redacted(String url) {
        try {
            URI uri = URI.create(url.split(",")[0].trim());
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        } catch (IllegalArgumentException e) {
            return "(unparseable URL)";
        }
    }

    static Duration duration(String text) {
        var m = Pattern.compile("(\\d+)([dhm])").matcher(text.trim());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration such as 14d, 12h or 30m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "d" -> Duration.ofDays(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofMinutes(n);
        };
    }

    /** Why a guarded change wrote nothing, in words for the person who ran the command. */
    static Failure refused(String id, SubscriptionStore.Change change) {
        String outcome = change.outcome();
        if (outcome.equals("missing")) {
            return new Failure(ExitCode.NOT_FOUND, "no subscription '" + id + "'");
        }
        if (outcome.equals("exists")) {
            return new Failure(ExitCode.REFUSED, "subscription '" + id + "' already exists");
        }
        if (outcome.equals(Subscription.STATE)) {
            return new Failure(ExitCode.REFUSED, "subscription '" + id + "' is cancelled: create a new one");
        }
        for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
            if (outcome.equals(Subscription.keyField(slot))) {
                return new Failure(
                        ExitCode.CONFLICT,
                        "the " + slot.wire() + " key of " + id + " was rotated meanwhile by "
                                + "someone else, and nothing was changed: rotate again if you still need a new key");
            }
        }
        return new Failure(
                ExitCode.CONFLICT,
                "subscription '" + id + "' changed meanwhile (" + outcome + "), and nothing was "
                        + "changed: show it, then run the command again");
    }

    /** Runs a guarded change; a refusal becomes the exit code and sentence that say why. */
    SubscriptionStore.Change applied(String id, Future<SubscriptionStore.Change> change) throws Exception {
        SubscriptionStore.Change done = await(change);
        if (!done.done()) {
            throw refused(id, done);
        }
        return done;
    }
}
