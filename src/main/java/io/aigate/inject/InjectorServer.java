package io.aigate.inject;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.jboss.logging.Logger;

/**
 * The webhook's HTTPS endpoint: {@code POST /mutate} takes an AdmissionReview and answers with {@link PodMutator}'s
 * review; {@code GET /healthz} for the kubelet. The certificate (cert-manager's tls.crt and tls.key) is reloaded when
 * its files change, so a renewal needs no restart.
 */
public final class InjectorServer {

    private static final Logger LOG = Logger.getLogger(InjectorServer.class);
    /** An AdmissionReview of a pod is a few KB; the API server's own limit is 3 MB. */
    private static final int MAX_REVIEW_BYTES = 3 * 1024 * 1024;

    private final Vertx vertx;
    private final PodMutator mutator;
    private final Path cert;
    private final Path key;
    private HttpServer server;
    private FileTime loaded;

    public InjectorServer(Vertx vertx, PodMutator mutator, Path cert, Path key) {
        this.vertx = vertx;
        this.mutator = mutator;
        this.cert = cert;
        this.key = key;
    }

    public Future<Integer> start(String host, int port) {
        loaded = modified();
        HttpServerOptions options =
                new HttpServerOptions().setHost(host).setPort(port).setSsl(true).setKeyCertOptions(pem());
        server = vertx.createHttpServer(options).requestHandler(this::handle);
        vertx.setPeriodic(30_000, id -> reloadIfChanged());
        return server.listen().map(HttpServer::actualPort);
    }

    public Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    private void handle(HttpServerRequest request) {
        if ("/healthz".equals(request.path())) {
            request.response().putHeader("Content-Type", "text/plain").end("ok");
            return;
        }
        if (!"/mutate".equals(request.path())) {
            error(request, 404, "Resource not found");
            return;
        }
        if (!"POST".equals(request.method().name())) {
            error(request, 405, "Method not allowed.");
            return;
        }
        Buffer body = Buffer.buffer();
        request.handler(chunk -> {
            if (body.length() + chunk.length() > MAX_REVIEW_BYTES) {
                error(request, 413, "An AdmissionReview is at most 3 MB.");
                return;
            }
            body.appendBuffer(chunk);
        });
        request.endHandler(v -> {
            if (request.response().ended()) {
                return;
            }
            request.response()
                    .putHeader("Content-Type", "application/json")
                    .end(mutator.review(body.getBytes()).toString());
        });
    }

    private static void error(HttpServerRequest request, int status, String message) {
        if (!request.response().ended()) {
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

    private void reloadIfChanged() {
        FileTime now = modified();
        if (now != null && !now.equals(loaded)) {
            server.updateSSLOptions(new SSLOptions().setKeyCertOptions(pem()))
                    .onSuccess(v -> {
                        loaded = now;
                        LOG.info("webhook certificate reloaded");
                    })
                    .onFailure(err -> LOG.warnf(
                            "webhook certificate not reloaded (%s); the previous one stays in use", err.getMessage()));
        }
    }
}
