package io.aigate.observability;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OpenTelemetry collector on loopback, as far as a test needs one: it takes OTLP/HTTP (protobuf) exports, decodes
 * them with the protocol's own classes, and keeps every span for the test to read.
 */
public class OtlpReceiver implements QuarkusTestResourceLifecycleManager {

    public static final List<Span> SPANS = new CopyOnWriteArrayList<>();
    private HttpServer server;

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", exchange -> {
            try (exchange;
                    InputStream body = exchange.getRequestBody()) {
                ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(body.readAllBytes());
                request.getResourceSpansList()
                        .forEach(resource ->
                                resource.getScopeSpansList().forEach(scope -> SPANS.addAll(scope.getSpansList())));
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, 0);
            }
        });
        server.start();
        return Map.of(
                "quarkus.otel.exporter.otlp.traces.endpoint",
                "http://127.0.0.1:" + server.getAddress().getPort(),
                "quarkus.otel.exporter.otlp.traces.protocol",
                "http/protobuf",
                "quarkus.otel.bsp.schedule.delay",
                "PT0.05S");
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
