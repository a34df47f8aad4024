package io.aigate.bench;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

/**
 * The floor aigate's data path stands on: a pass-through proxy on the same Vert.x build, with no layer and no policy.
 * It streams the request to the backend and the answer back, with back-pressure, copying headers as they are (except
 * hop-by-hop Connection handling, which Vert.x does). bench/run.sh runs it beside aigate, nginx and HAProxy, so the
 * difference between aigate and this is what aigate's own work costs per request.
 *
 * <p>Usage: {@code BarePassThrough <port> <backend-port> [event-loops]}
 */
public final class BarePassThrough {

    private BarePassThrough() {}

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int backend = Integer.parseInt(args[1]);
        int loops = args.length > 2
                ? Integer.parseInt(args[2])
                : 2 * Runtime.getRuntime().availableProcessors();
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
        HttpClient client = vertx.createHttpClient(
                new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(64));
        vertx.createHttpServer()
                .requestHandler(request -> forward(client, backend, request))
                .listen(port, "127.0.0.1")
                .onSuccess(s -> System.out.println("bare pass-through on 127.0.0.1:" + s.actualPort()))
                .onFailure(err -> {
                    err.printStackTrace();
                    System.exit(1);
                });
    }

    private static void forward(HttpClient client, int backend, HttpServerRequest request) {
        request.pause();
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost("127.0.0.1")
                .setPort(backend)
                .setURI(request.uri());
        client.request(options).onComplete(connected -> {
            if (connected.failed()) {
                request.response().setStatusCode(502).end();
                return;
            }
            var out = connected.result();
            out.headers().setAll(request.headers());
            out.headers().remove("Host");
            out.response().onComplete(answered -> {
                if (answered.failed()) {
                    request.response().setStatusCode(502).end();
                    return;
                }
                var in = answered.result();
                request.response().setStatusCode(in.statusCode());
                request.response().headers().setAll(in.headers());
                in.pipeTo(request.response());
            });
            out.send(request);
        });
    }
}
