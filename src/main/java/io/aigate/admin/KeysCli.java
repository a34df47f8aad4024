package io.aigate.admin;

import io.aigate.identity.EntraToken;
import io.aigate.pipeline.QuotaPeriod;
import io.aigate.redis.AuthenticatedRedis;
import io.aigate.pipeline.TokenLimits;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionKeys;
import io.aigate.subscription.SubscriptionStore;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code aigate keys …}: subscription keys in the same Redis, with the same connection settings, as the sidecar.
 * Keys are printed once, at creation or rotation, and never again: Redis holds only their SHA-256. Every change is
 * published on the invalidation channel, so every aigate instance drops its cached copy within moments. Every change
 * is one guarded, field-level write in Redis: commands run at once by two admins never lose each other's change.
 *
 * <p>Exit codes: 0 done, 1 Redis unreachable or failed, 2 bad arguments, 3 no such subscription, 4 changed meanwhile
 * by someone else (nothing was written; look, and run it again).
 */
@Command(name = "aigate keys", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Administer aigate subscription keys in Redis.",
        subcommands = {KeysCli.Create.class, KeysCli.ListCmd.class, KeysCli.Show.class, KeysCli.Rotate.class,
                KeysCli.Limits.class, KeysCli.Suspend.class, KeysCli.Activate.class, KeysCli.Revoke.class,
                KeysCli.Delete.class})
public class KeysCli {

    static final int UNREACHABLE = 1;
    static final int NOT_FOUND = 3;
    static final int CONFLICT = 4;
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();

    @Option(names = "--redis", paramLabel = "URL",
            description = "Redis URL (redis:// or rediss:// for TLS). Default: quarkus.redis.hosts from the same "
                    + "configuration the sidecar reads (./config/application.properties, the packed file, env).")
    String redisUrl;

    @Option(names = "--redis-password-env", paramLabel = "VAR",
            description = "Environment variable holding the Redis password (default: quarkus.redis.password).")
    String passwordEnv;

    @Option(names = "--redis-client-type", paramLabel = "TYPE",
            description = "standalone or cluster (default: quarkus.redis.client-type, else standalone).")
    String clientType;

    @Option(names = "--redis-credential", paramLabel = "CREDENTIAL",
            description = "password | managed-identity (this pod's identity, as the sidecar logs in) | azure-cli "
                    + "(your az login, on a workstation). Default: aigate.redis.credential. With an Entra token, "
                    + "the identity needs the admin access policy, which sidecars do not have.")
    String redisCredential;

    @Option(names = "--redis-user", paramLabel = "USER",
            description = "Redis user for an Entra token (default: aigate.redis.user, else the token's object id).")
    String redisUser;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10", description = "Per-operation timeout.")
    long timeoutSeconds;

    /** Runs the CLI; returns the exit code. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** Runs the CLI with the given output streams; returns the exit code. */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new KeysCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, line, parsed) -> {
            Throwable cause = ex instanceof ExecutionException && ex.getCause() != null ? ex.getCause() : ex;
            if (cause instanceof Failure failure) {
                line.getErr().println(failure.getMessage());
                return failure.code;
            }
            line.getErr().println("error: " + cause.getClass().getSimpleName()
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
            return UNREACHABLE;
        });
        return cli.execute(args);
    }

    /** A failure with its exit code and a message for people. */
    static final class Failure extends RuntimeException {
        final int code;

        Failure(int code, String message) {
            super(message);
            this.code = code;
        }
    }

    // ---- plumbing shared by the subcommands

    interface Action {
        int run(SubscriptionStore store, PrintWriter out) throws Exception;
    }

    int withStore(CommandLine.Model.CommandSpec spec, Action action) throws Exception {
        SmallRyeConfig config = configuration();
        String url = redisUrl != null ? redisUrl
                : config.getOptionalValue("quarkus.redis.hosts", String.class).orElse("redis://localhost:6379");
        RedisOptions options = new RedisOptions().setConnectionString(url).setMaxPoolSize(4).setMaxWaitingHandlers(64);
        String type = clientType != null ? clientType
                : config.getOptionalValue("quarkus.redis.client-type", String.class).orElse("standalone");
        switch (type.toLowerCase(java.util.Locale.ROOT)) {
            case "standalone" -> options.setType(RedisClientType.STANDALONE);
            case "cluster" -> options.setType(RedisClientType.CLUSTER);
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--redis-client-type must be standalone or cluster");
        }
        String credential = redisCredential != null ? redisCredential
                : config.getOptionalValue("aigate.redis.credential", String.class).orElse("password");
        Vertx vertx = Vertx.vertx();
        try {
            switch (credential.toLowerCase(java.util.Locale.ROOT)) {
                case "password" -> {
                    String password = passwordEnv != null ? System.getenv(passwordEnv)
                            : config.getOptionalValue("quarkus.redis.password", String.class).orElse(null);
                    if (password != null && !password.isEmpty()) {
                        options.setPassword(password);
                    }
                }
                case "managed-identity", "azure-cli" -> {
                    String resource = config.getOptionalValue("aigate.redis.resource", String.class)
                            .orElse("https://redis.azure.com");
                    String token;
                    try {
                        token = credential.equalsIgnoreCase("azure-cli") ? EntraToken.fetchOnceFromAzureCli(resource)
                                : EntraToken.fetchOnce(resource,
                                config.getOptionalValue("aigate.redis.client-id", String.class), vertx);
                    } catch (RuntimeException e) {
                        throw new Failure(UNREACHABLE, "cannot get an Entra token for Redis: " + describe(e));
                    }
                    String user = redisUser != null ? redisUser : config.getOptionalValue("aigate.redis.user",
                            String.class).or(() -> EntraToken.objectId(token)).orElseThrow(() -> new Failure(2,
                            "the Entra token names no object id: give --redis-user (the identity's object id)"));
                    options.setEndpoints(options.getEndpoints().stream()
                            .map(endpoint -> AuthenticatedRedis.withLogin(endpoint, user, token)).toList());
                }
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--redis-credential must be password, managed-identity or azure-cli");
            }
            Redis redis = Redis.createClient(vertx, options);
            SubscriptionStore store = new SubscriptionStore(vertx, redis, TimeUnit.SECONDS.toMillis(timeoutSeconds));
            try {
                await(store.ping());
            } catch (Exception e) {
                throw new Failure(UNREACHABLE, "cannot reach Redis at " + redacted(url) + ": " + describe(e));
            }
            return action.run(store, spec.commandLine().getOut());
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
            throw new Failure(UNREACHABLE, "Redis did not answer within " + timeoutSeconds + " s");
        }
    }

    Subscription existing(SubscriptionStore store, String id) throws Exception {
        Subscription subscription = await(store.get(id));
        if (subscription == null) {
            throw new Failure(NOT_FOUND, "no subscription '" + id + "'");
        }
        return subscription;
    }

    /** The sidecar's own configuration sources, without starting it: env, ./config/application.properties, packed file. */
    static SmallRyeConfig configuration() {
        SmallRyeConfigBuilder builder = new SmallRyeConfigBuilder().addDefaultInterceptors().addDefaultSources()
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
            throw new Failure(UNREACHABLE, "cannot read configuration: " + e.getMessage());
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

    static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
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

    static String newId() {
        String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        StringBuilder id = new StringBuilder("sub-");
        for (int i = 0; i < 10; i++) {
            id.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return id.toString();
    }

    /** Links a fresh key to the subscription; retries in the (astronomically unlikely) case of a collision. */
    String linkNewKey(SubscriptionStore store, String id, Subscription.KeySlot slot, String[] keyHolder)
            throws Exception {
        for (int attempt = 0; attempt < 3; attempt++) {
            String key = SubscriptionKeys.generate();
            String hash = SubscriptionKeys.hash(key);
            if (await(store.link(hash, id, slot))) {
                keyHolder[0] = key;
                return hash;
            }
        }
        throw new Failure(UNREACHABLE, "could not store a new key");
    }

    /** Why a guarded change wrote nothing, in words for the person who ran the command. */
    static Failure refused(String id, SubscriptionStore.Change change) {
        String outcome = change.outcome();
        if (outcome.equals("missing")) {
            return new Failure(NOT_FOUND, "no subscription '" + id + "'");
        }
        if (outcome.equals("exists")) {
            return new Failure(2, "subscription '" + id + "' already exists");
        }
        if (outcome.equals(Subscription.STATE)) {
            return new Failure(2, "subscription '" + id + "' is cancelled: create a new one");
        }
        for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
            if (outcome.equals(Subscription.keyField(slot))) {
                return new Failure(CONFLICT, "the " + slot.wire() + " key of " + id + " was rotated meanwhile by "
                        + "someone else, and nothing was changed: rotate again if you still need a new key");
            }
        }
        return new Failure(CONFLICT, "subscription '" + id + "' changed meanwhile (" + outcome + "), and nothing was "
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

    static void printKeysOnce(PrintWriter out) {
        out.println("These keys are shown once and never again: store them in a secret now.");
    }

    // ---- subcommands

    @Command(name = "create", description = "Create a subscription with a primary and a secondary key.")
    static class Create implements java.util.concurrent.Callable<Integer> {
        @CommandLine.ParentCommand
        KeysCli parent;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--name", required = true, description = "Display name, e.g. the team or app.")
        String name;
        @Option(names = "--id", description = "Subscription id (a-z, 0-9, . _ -); generated when absent.")
        String id;
        @Option(names = "--scope", defaultValue = "all",
                description = "all | deployments:a,b | routes:a,b | product:name (default: ${DEFAULT-VALUE}).")
        String scope;
        @Option(names = "--allowed-client-apps", split = ",", paramLabel = "APP_ID",
                description = "Entra client application ids allowed to use the keys (azp/appid of the caller token).")
        List<String> clientApps;
        @Option(names = "--expires-in", paramLabel = "DURATION", description = "e.g. 90d; the subscription expires then.")
        String expiresIn;
        @Option(names = "--expires-at", paramLabel = "INSTANT", description = "e.g. 2027-01-31T00:00:00Z.")
        String expiresAt;
        @CommandLine.Mixin
        LimitOptions limitOptions;

        @Override
        public Integer call() throws Exception {
            TokenLimits limits = limitOptions.limits(spec, TokenLimits.NONE);
            String subscriptionId = id == null ? newId() : id;
            if (!ID.matcher(subscriptionId).matches()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
            }
            Subscription.Scope parsedScope;
            try {
                parsedScope = Subscription.Scope.parse(scope);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--scope: " + e.getMessage());
            }
            Instant now = Instant.now();
            Instant expiry = null;
            try {
                if (expiresIn != null && expiresAt != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "give --expires-in or --expires-at, not both");
                }
                expiry = expiresIn != null ? now.plus(duration(expiresIn))
                        : expiresAt != null ? Instant.parse(expiresAt) : null;
            } catch (DateTimeParseException | CommandLine.TypeConversionException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Instant expires = expiry;
            return parent.withStore(spec, (store, out) -> {
                String[] primary = {SubscriptionKeys.generate()};
                String[] secondary = {SubscriptionKeys.generate()};
                // the subscription names its keys' hashes first, then the keys are linked: a key opens only when both
                // agree, so a half-done create never leaves an open key; the id is claimed in the same step
                Subscription created = new Subscription(subscriptionId, name, Subscription.State.ACTIVE, parsedScope,
                        clientApps == null ? Set.of() : Set.copyOf(clientApps), expires, now, now,
                        SubscriptionKeys.hash(primary[0]), SubscriptionKeys.hash(secondary[0]), now, now, limits);
                parent.applied(subscriptionId, store.create(created));
                for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                    if (!parent.await(store.link(created.keyHash(slot), subscriptionId, slot))) {
                        // another subscription's key hash: 2^-256; a new key takes its place, guarded as a rotation
                        String[] key = slot == Subscription.KeySlot.PRIMARY ? primary : secondary;
                        String hash = parent.linkNewKey(store, subscriptionId, slot, key);
                        parent.applied(subscriptionId, store.update(subscriptionId,
                                Map.of(Subscription.keyField(slot), created.keyHash(slot)),
                                Subscription.keyChange(slot, hash, now)));
                    }
                }
                out.println("Created subscription " + subscriptionId + " (" + name + "): active, scope "
                        + parsedScope.wire() + (expires == null ? "" : ", expires " + expires) + ".");
                out.println("Primary key:   " + primary[0]);
                out.println("Secondary key: " + secondary[0]);
                printKeysOnce(out);
                return 0;
            });
        }
    }

    @Command(name = "list", description = "List subscriptions (no key material).")
    static class ListCmd implements java.util.concurrent.Callable<Integer> {
        @CommandLine.ParentCommand
        KeysCli parent;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Option(names = "--expiring-within", paramLabel = "DURATION",
                description = "Only active subscriptions that expire within this, e.g. 14d.")
        String expiringWithin;

        @Override
        public Integer call() throws Exception {
            Duration window;
            try {
                window = expiringWithin == null ? null : duration(expiringWithin);
            } catch (CommandLine.TypeConversionException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            return parent.withStore(spec, (store, out) -> {
                Instant now = Instant.now();
                List<Subscription> all = parent.await(store.list()).stream()
                        .filter(s -> window == null || (s.state() == Subscription.State.ACTIVE && s.expiresAt() != null
                                && s.expiresAt().isBefore(now.plus(window))))
                        .sorted(Comparator.comparing(Subscription::id)).collect(Collectors.toList());
                out.printf("%-24s %-24s %-10s %-28s %-22s%n", "ID", "NAME", "STATE", "SCOPE", "EXPIRES");
                for (Subscription s : all) {
                    out.printf("%-24s %-24s %-10s %-28s %-22s%n", s.id(), s.name(), s.effectiveState(now).wire(),
                            s.scope().wire(), s.expiresAt() == null ? "never" : s.expiresAt().toString());
                }
                if (window != null && all.isEmpty()) {
                    out.println("(no active subscription expires within " + expiringWithin + ")");
                }
                return 0;
            });
        }
    }

    /** A command on one existing subscription, named by its id. */
    abstract static class OnSubscription implements java.util.concurrent.Callable<Integer> {
        @CommandLine.ParentCommand
        KeysCli parent;
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(paramLabel = "ID")
        String id;
    }

    @Command(name = "show", description = "Show one subscription (no key material).")
    static class Show extends OnSubscription {

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                Instant now = Instant.now();
                out.println("id:                  " + s.id());
                out.println("name:                " + s.name());
                out.println("state:               " + s.effectiveState(now).wire());
                out.println("scope:               " + s.scope().wire());
                out.println("allowed client apps: " + (s.allowedClientApps().isEmpty() ? "any"
                        : String.join(",", s.allowedClientApps())));
                out.println("expires:             " + (s.expiresAt() == null ? "never" : s.expiresAt()));
                out.println("created:             " + s.createdAt());
                out.println("updated:             " + s.updatedAt());
                out.println("primary rotated:     " + s.primaryRotatedAt());
                out.println("secondary rotated:   " + s.secondaryRotatedAt());
                out.println("token limits:        " + describeLimits(s.limits()));
                return 0;
            });
        }
    }

    @Command(name = "rotate", description = "Replace one key; the other keeps working (rotate without downtime).")
    static class Rotate extends OnSubscription {
        @Option(names = "--which", required = true, description = "primary or secondary")
        String which;

        @Override
        public Integer call() throws Exception {
            Subscription.KeySlot slot = switch (which) {
                case "primary" -> Subscription.KeySlot.PRIMARY;
                case "secondary" -> Subscription.KeySlot.SECONDARY;
                default -> throw new CommandLine.ParameterException(spec.commandLine(),
                        "--which must be primary or secondary");
            };
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                String oldHash = s.keyHash(slot);
                String[] key = new String[1];
                String newHash = parent.linkNewKey(store, id, slot, key);
                // only this key's fields, and only if nobody rotated it or revoked the subscription since we looked
                SubscriptionStore.Change change = parent.await(store.update(id, Map.of(Subscription.STATE,
                        Subscription.NOT_CANCELLED, Subscription.keyField(slot), oldHash == null ? "" : oldHash),
                        Subscription.keyChange(slot, newHash, Instant.now())));
                if (!change.done()) {
                    parent.await(store.unlink(newHash));
                    throw refused(id, change);
                }
                parent.await(store.unlink(oldHash));
                parent.await(store.invalidate(id));
                out.println("Rotated the " + slot.wire() + " key of " + id + "; the old one no longer works.");
                out.println("New " + slot.wire() + " key: " + key[0]);
                printKeysOnce(out);
                return 0;
            });
        }
    }

    /** APIM's {@code llm-token-limit} attributes, per subscription; unset ones fall back to the sidecar's defaults. */
    static class LimitOptions {
        @Option(names = "--tokens-per-minute", paramLabel = "N",
                description = "Token rate (leaky bucket) shared by every aigate instance.")
        Long tokensPerMinute;
        @Option(names = "--token-quota", paramLabel = "N", description = "Tokens per --token-quota-period.")
        Long tokenQuota;
        @Option(names = "--token-quota-period", paramLabel = "PERIOD",
                description = "Hourly | Daily | Weekly | Monthly | Yearly (UTC windows).")
        String tokenQuotaPeriod;

        TokenLimits limits(CommandLine.Model.CommandSpec spec, TokenLimits current) {
            if ((tokensPerMinute != null && tokensPerMinute <= 0) || (tokenQuota != null && tokenQuota <= 0)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--tokens-per-minute and --token-quota must be positive");
            }
            QuotaPeriod period;
            try {
                period = tokenQuotaPeriod == null ? current.tokenQuotaPeriod() : QuotaPeriod.parse(tokenQuotaPeriod);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--" + e.getMessage());
            }
            TokenLimits limits = new TokenLimits(tokensPerMinute != null ? tokensPerMinute : current.tokensPerMinute(),
                    tokenQuota != null ? tokenQuota : current.tokenQuota(), period);
            if (limits.tokenQuota() != null && limits.tokenQuotaPeriod() == null) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--token-quota needs --token-quota-period (Hourly, Daily, Weekly, Monthly or Yearly)");
            }
            return limits;
        }

        boolean any() {
            return tokensPerMinute != null || tokenQuota != null || tokenQuotaPeriod != null;
        }
    }

    static String describeLimits(TokenLimits limits) {
        if (limits.isEmpty()) {
            return "defaults";
        }
        return (limits.tokensPerMinute() == null ? "default rate" : limits.tokensPerMinute() + " tokens/minute") + ", "
                + (limits.tokenQuota() == null ? "default quota"
                : limits.tokenQuota() + " tokens " + limits.tokenQuotaPeriod().wire().toLowerCase(java.util.Locale.ROOT));
    }

    @Command(name = "limits", description = "Set or clear a subscription's token limits; every instance applies them "
            + "within moments.")
    static class Limits extends OnSubscription {
        @CommandLine.Mixin
        LimitOptions limitOptions;
        @Option(names = "--clear", description = "Remove the subscription's own limits (the defaults apply again).")
        boolean clear;

        @Override
        public Integer call() throws Exception {
            if (clear == limitOptions.any()) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "give --clear, or at least one of --tokens-per-minute, --token-quota, --token-quota-period");
            }
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                TokenLimits limits = clear ? TokenLimits.NONE : limitOptions.limits(spec, s.limits());
                // only the limits named; a quota that relies on the period already set insists it is still set
                Map<String, String> guards = !clear && limitOptions.tokenQuota != null
                        && limitOptions.tokenQuotaPeriod == null ? Map.of("token_quota_period", "!") : Map.of();
                SubscriptionStore.Change change = parent.applied(id, store.update(id, guards,
                        Subscription.limitsChange(limits, clear || limitOptions.tokensPerMinute != null,
                                clear || limitOptions.tokenQuota != null, clear || limitOptions.tokenQuotaPeriod != null,
                                Instant.now())));
                parent.await(store.invalidate(id));
                out.println("Token limits of " + id + ": " + describeLimits(change.subscription().limits()) + ".");
                return 0;
            });
        }
    }

    /** A state change, published to every instance. */
    abstract static class StateChange extends OnSubscription {

        abstract Subscription.State target();

        abstract String done();

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                // the state alone, and never out of cancelled: limits or keys changed meanwhile stay as they are
                SubscriptionStore.Change change = parent.applied(id, store.update(id,
                        Map.of(Subscription.STATE, Subscription.NOT_CANCELLED),
                        Subscription.stateChange(target(), Instant.now())));
                if (target() == Subscription.State.CANCELLED) {
                    // the keys as they are now: a rotation that ran first is unlinked too, one that runs later fails
                    for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                        parent.await(store.unlink(change.subscription().keyHash(slot)));
                    }
                }
                parent.await(store.invalidate(id));
                out.println("Subscription " + id + " " + done() + ".");
                return 0;
            });
        }
    }

    @Command(name = "suspend", description = "Refuse both keys until activated again.")
    static class Suspend extends StateChange {
        Subscription.State target() {
            return Subscription.State.SUSPENDED;
        }

        String done() {
            return "suspended: both keys are refused";
        }
    }

    @Command(name = "activate", description = "Accept the keys of a suspended subscription again.")
    static class Activate extends StateChange {
        Subscription.State target() {
            return Subscription.State.ACTIVE;
        }

        String done() {
            return "active";
        }
    }

    @Command(name = "revoke", description = "Cancel for good: both keys stop working and cannot come back.")
    static class Revoke extends StateChange {
        Subscription.State target() {
            return Subscription.State.CANCELLED;
        }

        String done() {
            return "cancelled: both keys are revoked";
        }
    }

    @Command(name = "delete", description = "Remove the subscription and its keys from Redis.")
    static class Delete extends OnSubscription {

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                SubscriptionStore.Change removed = parent.applied(id, store.remove(id, Map.of()));
                for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                    parent.await(store.unlink(removed.subscription().keyHash(slot)));
                }
                parent.await(store.invalidate(id));
                out.println("Deleted subscription " + id + ".");
                return 0;
            });
        }
    }
}
