package io.aigate.inject;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code aigate inject …}: the same artifact as the sidecar, started as the cluster's mutating admission webhook. It
 * needs no Kubernetes API access: everything it decides comes from the AdmissionReview.
 */
@Command(
        name = "aigate inject",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Serve the aigate sidecar-injection webhook (HTTPS, POST /mutate).")
public class InjectCommand implements java.util.concurrent.Callable<Integer> {

    @Option(names = "--image", required = true, description = "The aigate image injected as the sidecar.")
    String image;

    @Option(
            names = "--config-map",
            defaultValue = "aigate-config",
            description = "ConfigMap (in the pod's namespace) mounted as the sidecar's configuration.")
    String configMap;

    @Option(
            names = "--env-config-map",
            defaultValue = "aigate-env",
            description = "Optional ConfigMap of environment overrides for the sidecar.")
    String envConfigMap;

    @Option(
            names = "--env-secret",
            defaultValue = "",
            description = "A Secret of environment overrides to offer every sidecar (e.g. QUARKUS_REDIS_PASSWORD for a "
                    + "self-hosted Redis). None by default: with managed identity there is no secret to offer.")
    String envSecret;

    @Option(names = "--cpu-request", defaultValue = "50m")
    String cpuRequest;

    @Option(
            names = "--memory-request",
            description = "Default: the image's flavour's (JVM 224Mi, native 96Mi), see --flavour.")
    String memoryRequest;

    @Option(names = "--cpu-limit", defaultValue = "1")
    String cpuLimit;

    @Option(
            names = "--memory-limit",
            description = "Default: the image's flavour's (JVM 288Mi, native 128Mi), see --flavour.")
    String memoryLimit;

    @Option(
            names = "--flavour",
            description = "JVM or NATIVE: which image the sidecar runs, for its memory defaults. Default: NATIVE when "
                    + "the image's tag contains 'native', else JVM; a pod's aigate.io/image is judged the same way.")
    InjectorSettings.Flavour flavour;

    @Option(
            names = "--excluded-namespaces",
            split = ",",
            defaultValue = "kube-system,kube-public,kube-node-lease",
            description = "Pods in these namespaces are never touched (add the injector's own).")
    List<String> excluded;

    @Option(
            names = "--endpoint",
            defaultValue = "http://localhost:8080",
            description = "AZURE_OPENAI_ENDPOINT given to app containers that lack it.")
    String endpoint;

    @Option(
            names = "--allowed-images",
            split = ",",
            description =
                    "What a pod's aigate.io/image may name: repositories (any tag or digest) or exact references. "
                            + "Default: the repository of --image.")
    List<String> allowedImages = List.of();

    @Option(
            names = "--allowed-config-maps",
            split = ",",
            description = "What a pod's aigate.io/config-map may name. Default: --config-map alone.")
    List<String> allowedConfigMaps = List.of();

    @Option(
            names = "--app-identity-namespaces",
            split = ",",
            description =
                    "Namespaces where aigate.io/app-identity: shared may leave the workload identity with the app "
                            + "containers (it undoes layer 3). None by default.")
    List<String> appIdentityNamespaces = List.of();

    @Option(
            names = "--sidecar-uid",
            defaultValue = "2342",
            description = "The uid and gid of the sidecar; a pod with another container running as either is refused. "
                    + "Chosen to differ from the defaults of common images (0, 100, 101, 185, 1000, 1001, 65532).")
    int sidecarUid;

    @Option(
            names = "--token-audiences",
            split = ",",
            defaultValue = "api://AzureADTokenExchange",
            description = "Audiences that make a projected service-account token a workload-identity token.")
    List<String> tokenAudiences;

    @Option(
            names = "--authority-hosts",
            split = ",",
            defaultValue = "https://login.microsoftonline.com/",
            description =
                    "Entra authority hosts the sidecar may be given as AZURE_AUTHORITY_HOST (sovereign clouds: add "
                            + "theirs).")
    List<String> authorityHosts;

    @Option(
            names = "--max-containers",
            defaultValue = "64",
            description = "A pod with more containers (init, app and ephemeral together) is refused.")
    int maxContainers;

    @Option(
            names = "--concurrent-reviews",
            defaultValue = "" + InjectorLimits.CONCURRENT_REVIEWS,
            description = "AdmissionReviews read and judged at once; up to " + InjectorLimits.QUEUED_REVIEWS
                    + " more wait unread, the rest get 429. Each may hold up to " + InjectorLimits.MAX_REVIEW_MB
                    + " MB and its parsed tree: size the injector's memory limit with it.")
    int concurrentReviews;

    @Option(
            names = "--review-timeout-ms",
            defaultValue = "" + InjectorLimits.REVIEW_TIMEOUT_MS,
            description = "A review not received and judged within this is dropped; keep it below the webhook's "
                    + "timeoutSeconds (5 s).")
    int reviewTimeoutMs;

    @Option(names = "--tls-cert", defaultValue = "/tls/tls.crt")
    Path tlsCert;

    @Option(names = "--tls-key", defaultValue = "/tls/tls.key")
    Path tlsKey;

    @Option(names = "--port", defaultValue = "8443")
    int port;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The settings these arguments give, as the webhook will use them (the deploy/ test reads the manifests' args). */
    public static InjectorSettings settings(String... args) {
        InjectCommand command = new InjectCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    InjectorSettings settings() {
        return new InjectorSettings(
                image,
                configMap,
                envConfigMap,
                envSecret,
                cpuRequest,
                memoryRequest,
                cpuLimit,
                memoryLimit,
                Set.copyOf(excluded),
                endpoint,
                flavour,
                allowedImages,
                Set.copyOf(allowedConfigMaps),
                Set.copyOf(appIdentityNamespaces),
                sidecarUid,
                Set.copyOf(tokenAudiences),
                Set.copyOf(authorityHosts),
                maxContainers);
    }

    InjectorLimits limits() {
        InjectorLimits d = InjectorLimits.DEFAULTS;
        return new InjectorLimits(
                d.maxReviewBytes(),
                concurrentReviews,
                d.queuedReviews(),
                java.time.Duration.ofMillis(reviewTimeoutMs),
                d.maxConnections());
    }

    public static int execute(String... args) {
        return new CommandLine(new InjectCommand()).execute(args);
    }

    @Override
    public Integer call() throws Exception {
        for (Path file : List.of(tlsCert, tlsKey)) {
            if (!Files.isReadable(file)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        file + " cannot be read: mount the "
                                + "webhook's TLS secret there (cert-manager writes tls.crt and tls.key), or pass --tls-cert "
                                + "and --tls-key.");
            }
        }
        InjectorSettings settings = settings();
        if (!settings.imageAllowed(image)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--image " + image + " is not in --allowed-images: add its repository there, or drop the flag.");
        }
        InjectorLimits limits;
        try {
            limits = limits();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--concurrent-reviews and --review-timeout-ms must be positive, e.g. 2 and 4000.");
        }
        // one event loop answers every connection; reviews are judged on as many workers as may run at once
        Vertx vertx = Vertx.vertx(new VertxOptions()
                .setEventLoopPoolSize(1)
                .setWorkerPoolSize(limits.concurrentReviews())
                .setInternalBlockingPoolSize(1));
        InjectorServer server = new InjectorServer(vertx, new PodMutator(settings), tlsCert, tlsKey, limits);
        int actual = server.start("0.0.0.0", port)
                .toCompletionStage()
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        System.out.println("aigate injector listening on https://0.0.0.0:" + actual + "/mutate (image " + image + ")");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // the API server retries a webhook call that fails: finish the reviews in flight, then go
            server.stop().eventually(() -> vertx.close()).onComplete(done -> stopped.countDown());
            try {
                stopped.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        stopped.await();
        return 0;
    }
}
