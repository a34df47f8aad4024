package io.aigate.inject;

import io.aigate.pipeline.Backoff;
import io.aigate.pipeline.ContentLength;
import io.aigate.pipeline.Refreshed;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The webhook's HTTPS endpoint: {@code POST /mutate} takes an AdmissionReview and answers with {@link PodMutator}'s
 * review, {@code POST /mutate/sidecar-only} the same for namespaces a cluster admin labelled {@code aigate.io/identity:
 * sidecar-only}; {@code GET /healthz} for the kubelet. Every review is bounded by {@link InjectorLimits}. The
 * certificate (cert-manager's tls.crt and tls.key) is reloaded when its files change, so a renewal needs no restart.
 */
public final class InjectorServer {

    private static final Logger LOG = Logger.getLogger(InjectorServer.class);
    static final String MUTATE = "/mutate";
    static final String MUTATE_SIDECAR_ONLY = "/mutate/sidecar-only";

    private final Vertx vertx;
    private final PodMutator mutator;
    private final Path cert;
    private final Path key;
    private final InjectorLimits limits;
    /** Touched on the server's one event loop only. */
    /**
     * Waiting reviews, a queue per sender address, served in turn: a flood from a few pods waits behind itself, and the
     * API server's next review is at most one round behind it.
     */
    private final java.util.Map<String, ArrayDeque<Review>> waiting = new java.util.HashMap<>();
    /** Addresses with reviews waiting, in the order their turn comes. */
    private final ArrayDeque<String> rotation = new ArrayDeque<>();

    private int queued;

    private final java.util.Map<String, Integer> perAddress = new java.util.HashMap<>();
    private final java.util.Map<HttpConnection, Long> headDeadlines = new java.util.IdentityHashMap<>();

    private int judging;
    private int connections;
    private HttpServer server;
    /** When the certificate in use was written: re-checked every 30 s, reloaded when it changed. */
    private Refreshed<FileTime> certificate;

    public InjectorServer(Vertx vertx, PodMutator mutator, Path cert, Path key) {
        this(vertx, mutator, cert, key, InjectorLimits.DEFAULTS);
    }

    public InjectorServer(Vertx vertx, PodMutator mutator, Path cert, Path key, InjectorLimits limits) {
        this.vertx = vertx;
        this.mutator = mutator;
        this.cert = cert;
        this.key = key;
        this.limits = limits;
    }

    public Future<Integer> start(String host, int port) {
        FileTime loaded = modified();
        int timeoutMillis = (int) limits.reviewTimeout().toMillis();
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setSsl(true)
                .setKeyCertOptions(pem())
                // a connection that carries nothing (no handshake, no request) is closed, not kept for a sender
                .setIdleTimeout(Math.max(1, timeoutMillis * 2))
                .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
                .setSslHandshakeTimeout(timeoutMillis)
                .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxHeaderSize(16 * 1024)
                .setMaxInitialLineLength(1024);
        server = vertx.createHttpServer(options)
                .connectionHandler(this::connected)
                .requestHandler(this::handle);
        certificate = new Refreshed<>(
                        "webhook certificate",
                        this::reloadIfChanged,
                        Refreshed.onVertx(vertx),
                        new Backoff(1000, 30_000),
                        System::currentTimeMillis)
                .onChange((previous, current) -> LOG.info("webhook certificate reloaded"));
        certificate.start(loaded == null ? FileTime.fromMillis(0) : loaded, 30_000);
        return server.listen().map(HttpServer::actualPort);
    }

    public Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /**
     * A connection must bring a whole request's head within {@code reviewTimeout} of opening, or of its previous
     * answer: a sender that trickles a header a byte at a time (which resets any idle timer) is closed at that
     * deadline, and no address may hold more than its share of the connections.
     */
    private void connected(HttpConnection connection) {
        String address = address(connection.remoteAddress());
        int fromThere = perAddress.getOrDefault(address, 0);
        if (connections >= limits.maxConnections() || fromThere >= limits.maxConnections() / 4) {
            connection.close();
            return;
        }
        connections++;
        perAddress.put(address, fromThere + 1);
        awaitHead(connection);
        connection.closeHandler(v -> {
            connections--;
            perAddress.computeIfPresent(address, (k, n) -> n > 1 ? n - 1 : null);
            Long timer = headDeadlines.remove(connection);
            if (timer != null) {
                vertx.cancelTimer(timer);
            }
        });
    }

    /** A sender, by its IP: the unit of the connection cap and of the review queues. */
    private static String address(io.vertx.core.net.SocketAddress remote) {
        return remote == null ? "?" : remote.hostAddress();
    }

    private void awaitHead(HttpConnection connection) {
        headDeadlines.put(connection, vertx.setTimer(limits.reviewTimeout().toMillis(), id -> {
            headDeadlines.remove(connection);
            connection.close();
        }));
    }

    /** A head arrived: its review has a deadline of its own; once answered, the next head has to come in time. */
    private void headArrived(HttpServerRequest request) {
        HttpConnection connection = request.connection();
        Long timer = headDeadlines.remove(connection);
        if (timer != null) {
            vertx.cancelTimer(timer);
        }
        request.response().endHandler(v -> {
            if (!headDeadlines.containsKey(connection)) {
                awaitHead(connection);
            }
        });
    }

    private void handle(HttpServerRequest request) {
        headArrived(request);
        String path = request.path();
        if ("/healthz".equals(path)) {
            request.response().putHeader("Content-Type", "text/plain").end("ok");
            return;
        }
        if (!MUTATE.equals(path) && !MUTATE_SIDECAR_ONLY.equals(path)) {
            error(request, 404, "Resource not found");
            return;
        }
        if (!"POST".equals(request.method().name())) {
            error(request, 405, "Method not allowed.");
            return;
        }
        String declared = request.getHeader("Content-Length");
        if (declared != null && !fits(declared)) {
            tooLarge(request);
            return;
        }
        String address = address(request.remoteAddress());
        ArrayDeque<Review> own = waiting.get(address);
        if (judging >= limits.concurrentReviews()
                && (queued >= limits.queuedReviews()
                        || (own != null && own.size() >= Math.max(1, limits.queuedReviews() / 4)))) {
            error(
                    request,
                    429,
                    "The injector is judging as many reviews as it may; the API server applies the "
                            + "webhook's failure policy.");
            return;
        }
        request.pause(); // not read until its turn: a waiting review holds no bytes of ours
        Review review = new Review(request, MUTATE_SIDECAR_ONLY.equals(path));
        review.timer = vertx.setTimer(limits.reviewTimeout().toMillis(), id -> review.expired());
        request.response().closeHandler(v -> review.gone());
        if (judging < limits.concurrentReviews()) {
            review.begin();
        } else {
            if (own == null) {
                own = new ArrayDeque<>();
                waiting.put(address, own);
                rotation.add(address);
            }
            own.add(review);
            queued++;
        }
    }

    private boolean fits(String declared) {
        return ContentLength.parse(declared) <= limits.maxReviewBytes();
    }

    /**
     * The answer goes out at once; what the sender still writes is discarded for a moment (a client that writes its
     * whole body before it reads would otherwise see a reset instead of the 413), then the connection is closed, so
     * a declared gigabyte is never read.
     */
    private void tooLarge(HttpServerRequest request) {
        request.handler(chunk -> {});
        request.response().putHeader("Connection", "close");
        error(request, 413, "An AdmissionReview is at most " + limits.maxReviewBytes() / (1024 * 1024) + " MB.");
        HttpConnection connection = request.connection();
        vertx.setTimer(1000, id -> connection.close());
    }

    /** The next waiting review, if a turn is free: the first of the next address in the rotation. */
    private void next() {
        while (judging < limits.concurrentReviews() && !rotation.isEmpty()) {
            String address = rotation.poll();
            ArrayDeque<Review> own = waiting.get(address);
            Review review = own.poll();
            queued--;
            if (own.isEmpty()) {
                waiting.remove(address);
            } else {
                rotation.add(address);
            }
            if (!review.done) {
                review.begin();
            }
        }
    }

    /**
     * One review's life: waiting, reading, judging (on a worker: the event loop keeps answering), answered. Its turn is
     * held until its judging is over, even when its sender left or its deadline passed first, so the turns bound the
     * work and memory in flight, not only the answers.
     */
    private final class Review {
        final HttpServerRequest request;
        final boolean sidecarOnly;
        Buffer body;
        long timer;
        long bodyTimer = -1;
        boolean holdsTurn;
        boolean inJudgement;
        /** Answered (or gone): nothing more is sent. */
        boolean done;
        /** The same, for the worker, which then skips the work (every other field is the event loop's alone). */
        final java.util.concurrent.atomic.AtomicBoolean over = new java.util.concurrent.atomic.AtomicBoolean();

        Review(HttpServerRequest request, boolean sidecarOnly) {
            this.request = request;
            this.sidecarOnly = sidecarOnly;
        }

        void begin() {
            judging++;
            holdsTurn = true;
            body = Buffer.buffer();
            // a turn is for a body that is coming: one that stalls gives its turn back at this deadline, not the
            // review's (a real review's body, a few KB to 3 MB inside the cluster, arrives in milliseconds)
            bodyTimer = vertx.setTimer(limits.bodyTimeout().toMillis(), id -> expired());
            request.handler(chunk -> {
                if (done) {
                    return;
                }
                if (body.length() + chunk.length() > limits.maxReviewBytes()) {
                    end();
                    release();
                    tooLarge(request);
                    return;
                }
                body.appendBuffer(chunk);
            });
            request.endHandler(v -> judge());
            request.resume();
        }

        void judge() {
            if (done) {
                return;
            }
            vertx.cancelTimer(bodyTimer);
            Buffer received = body; // copied to bytes on the worker: 3 MB is not copied on the event loop
            body = null;
            inJudgement = true;
            vertx.<String>executeBlocking(
                            () -> over.get() // done is the event loop's: the worker reads its copy
                                    ? null
                                    : mutator.review(received.getBytes(), sidecarOnly)
                                            .toString(),
                            false)
                    .onComplete(answered -> {
                        inJudgement = false;
                        if (!done) {
                            end();
                            if (answered.succeeded() && answered.result() != null) {
                                request.response()
                                        .putHeader("Content-Type", "application/json")
                                        .end(answered.result());
                            } else {
                                error(request, 500, "The review could not be judged.");
                            }
                        }
                        release();
                    });
        }

        void expired() {
            if (done) {
                return;
            }
            end();
            LOG.debugf("an AdmissionReview was not received and judged within %s", limits.reviewTimeout());
            error(request, 408, "The AdmissionReview was not received and judged in time.");
            request.connection().close();
            if (!inJudgement) {
                release();
            }
        }

        void gone() {
            if (!done) {
                end();
                if (!inJudgement) {
                    release();
                }
            }
        }

        /** Nothing more is sent for this review. */
        void end() {
            done = true;
            over.set(true);
            body = null;
            vertx.cancelTimer(timer);
            vertx.cancelTimer(bodyTimer);
        }

        /** Once: the turn (if it held one) goes to the next review. */
        void release() {
            if (holdsTurn) {
                holdsTurn = false;
                judging--;
                next();
            }
        }
    }

    private static void error(HttpServerRequest request, int status, String message) {
        if (!request.response().ended() && !request.response().closed()) {
            request.response()
                    .setStatusCode(status)
                    .putHeader("Content-Type", "application/json")
                    .end(new JsonObject()
                            .put("statusCode", status)
                            .put("message", message)
                            .encode());
        }
    }

    private PemKeyCertOptions pem() {
        return new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString());
    }

    private FileTime modified() {
        try {
            return Files.getLastModifiedTime(cert.toRealPath());
        } catch (Exception e) {
            return null;
        }
    }

    /** Reloads the certificate if its files changed; a reload that fails keeps the one in use. */
    private Future<Refreshed.Fetched<FileTime>> reloadIfChanged() {
        FileTime now = modified();
        if (now == null || now.equals(certificate.value())) {
            return Future.succeededFuture(new Refreshed.Fetched<>(certificate.value(), 30_000));
        }
        return server.updateSSLOptions(new SSLOptions().setKeyCertOptions(pem()))
                .map(v -> new Refreshed.Fetched<>(now, 30_000));
    }
}
