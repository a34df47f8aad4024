package io.aigate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpRequest;
import com.azure.core.util.Configuration;
import com.azure.core.util.ConfigurationBuilder;
import com.azure.core.util.ConfigurationSource;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * aigate builds the Entra ID client's options itself (no keep-alive pool); an AKS cluster behind an egress proxy sets
 * {@code HTTP_PROXY}/{@code NO_PROXY} in every pod, and the token fetch must keep honouring both as azure-core would.
 * Two loopback servers: one plays the proxy, the other the identity endpoint.
 */
class EntraHttpClientTest {

    static Vertx vertx;
    static HttpServer proxy;
    static HttpServer endpoint;
    static final List<String> proxied = new CopyOnWriteArrayList<>();
    static final List<String> direct = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        proxy = answering("proxied", proxied);
        endpoint = answering("direct", direct);
    }

    /** A loopback server that notes each request's target and answers with this body. */
    static HttpServer answering(String body, List<String> seen) throws Exception {
        return vertx.createHttpServer()
                .requestHandler(r -> {
                    seen.add(r.uri());
                    r.response().end(body);
                })
                .listen(0, "127.0.0.1")
                .toCompletionStage()
                .toCompletableFuture()
                .get();
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    /** The environment as a pod behind an egress proxy has it, with the JVM told to use it. */
    static Configuration environment(Map<String, String> variables) {
        ConfigurationSource none = source -> Map.of();
        return new ConfigurationBuilder(
                        none, source -> Map.of("java.net.useSystemProxies", "true"), source -> variables)
                .build();
    }

    static String get(HttpClient client, String host) {
        return client.send(new HttpRequest(
                        HttpMethod.GET, "http://" + host + ":" + endpoint.actualPort() + "/msi/token?x=1"))
                .block(Duration.ofSeconds(10))
                .getBodyAsString()
                .block(Duration.ofSeconds(10));
    }

    @Test
    void aProxyInTheEnvironmentCarriesTheTokenRequest() {
        proxied.clear();
        HttpClient client = EntraCredentials.httpClient(
                vertx, environment(Map.of("HTTP_PROXY", "http://127.0.0.1:" + proxy.actualPort())));
        assertEquals("proxied", get(client, "127.0.0.1"));
        assertEquals(List.of("http://127.0.0.1:" + endpoint.actualPort() + "/msi/token?x=1"), proxied);
    }

    @Test
    void noProxyExemptsItsHosts() {
        proxied.clear();
        direct.clear();
        HttpClient client = EntraCredentials.httpClient(
                vertx,
                environment(Map.of(
                        "HTTP_PROXY",
                        "http://127.0.0.1:" + proxy.actualPort(),
                        "NO_PROXY",
                        "example.invalid,127.0.0.1")));
        assertEquals("direct", get(client, "127.0.0.1"));
        assertEquals(List.of("/msi/token?x=1"), direct);
        assertEquals(List.of(), proxied);
    }

    @Test
    void javaProxyPropertiesCountToo() {
        proxied.clear();
        ConfigurationSource none = source -> Map.of();
        Configuration properties = new ConfigurationBuilder(
                        none,
                        source -> Map.of("http.proxyHost", "127.0.0.1", "http.proxyPort", "" + proxy.actualPort()),
                        none)
                .build();
        assertEquals("proxied", get(EntraCredentials.httpClient(vertx, properties), "127.0.0.1"));
        assertEquals(1, proxied.size());
    }

    @Test
    void withoutAProxyTheRequestGoesStraight() {
        direct.clear();
        HttpClient client = EntraCredentials.httpClient(vertx, environment(Map.of()));
        assertEquals("direct", get(client, "127.0.0.1"));
        assertEquals(List.of("/msi/token?x=1"), direct);
    }
}
