package io.aigate.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.lang.JoseException;

/**
 * A stand-in for Entra ID on loopback, over real HTTP: the App Service-style managed-identity endpoint that
 * azure-identity reaches through {@code IDENTITY_ENDPOINT}/{@code IDENTITY_HEADER}, (over HTTPS) the token endpoint
 * that workload identity exchanges its federated token at, and OpenID discovery plus a JWKS for caller tokens it signs
 * with real RSA keys (which it can rotate, hide or stop serving). It remembers every token it issued, so a fake backend can
 * tell whether the bearer it received was genuine and unexpired.
 */
public final class FakeEntraId implements AutoCloseable {

    public static final String SYSTEM_ASSIGNED = "system";

    public record Issued(String token, String identity, String resource, long expiresAtMillis) {}

    private final HttpServer http;
    private final String identityHeader;
    private HttpsServer https;
    private final Map<String, Long> lifetimeSeconds = new ConcurrentHashMap<>();
    private final Set<String> failing = ConcurrentHashMap.newKeySet();
    private final ConcurrentMap<String, Issued> issued = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, AtomicInteger> fetches = new ConcurrentHashMap<>();
    private final AtomicInteger sequence = new AtomicInteger();
    private volatile long defaultLifetimeSeconds = 3600;
    private final List<RsaJsonWebKey> published = new CopyOnWriteArrayList<>();
    private final AtomicInteger jwksFetches = new AtomicInteger();
    private volatile boolean jwksDown;
    private volatile long jwksDelayMillis;
    private final AtomicInteger jwksAnswered = new AtomicInteger();
    private volatile String lastClientAssertion;
    private volatile String lastTokenRequestPath;
    private final List<java.util.function.Consumer<Issued>> issueListeners = new CopyOnWriteArrayList<>();

    private FakeEntraId(HttpServer http, String identityHeader) {
        this.http = http;
        this.identityHeader = identityHeader;
    }

    /** Starts the managed-identity endpoint at {@code http://127.0.0.1:port/msi/token}. */
    public static FakeEntraId start(int port, String identityHeader) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            FakeEntraId fake = new FakeEntraId(server, identityHeader);
            server.createContext("/", fake::handle);
            server.setExecutor(Executors.newCachedThreadPool(daemon("fake-entra")));
            server.start();
            return fake;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the fake Entra ID on port " + port, e);
        }
    }

    /** Adds the HTTPS listener (authority host for workload identity) with the given PKCS12 key store. */
    public FakeEntraId withHttps(int port, Path keyStore, char[] password) {
        try {
            SSLContext tls = serverTls(keyStore, password);
            https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            https.createContext("/", this::handle);
            https.setExecutor(Executors.newCachedThreadPool(daemon("fake-entra-tls")));
            https.start();
            return this;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the fake Entra ID over HTTPS on port " + port, e);
        }
    }

    /** A TLS context serving the PKCS12 key store's certificate: every fake that speaks HTTPS uses it. */
    static SSLContext serverTls(Path keyStore, char[] password) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            store.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        return tls;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    public String identityEndpoint() {
        return "http://127.0.0.1:" + port() + "/msi/token";
    }

    public String authorityHost() {
        return "https://127.0.0.1:" + https.getAddress().getPort() + "/";
    }

    /** Tokens for this identity (a client id, or {@link #SYSTEM_ASSIGNED}) live this long. */
    public void lifetime(String identity, long seconds) {
        lifetimeSeconds.put(identity, seconds);
    }

    public void defaultLifetime(long seconds) {
        defaultLifetimeSeconds = seconds;
    }

    /** Requests for this identity fail with 500 until {@link #recover(String)}. */
    public void fail(String identity) {
        failing.add(identity);
    }

    public void recover(String identity) {
        failing.remove(identity);
    }

    /**
     * Told of every token before it is handed out: a fake service that accepts these tokens (a Redis whose password
     * is the token) learns it first. Returns what removes the listener.
     */
    public Runnable onIssue(java.util.function.Consumer<Issued> listener) {
        issueListeners.add(listener);
        return () -> issueListeners.remove(listener);
    }

    public int fetches(String identity) {
        AtomicInteger count = fetches.get(identity);
        return count == null ? 0 : count.get();
    }

    public Issued issued(String token) {
        return issued.get(token);
    }

    /** Whether the header value is {@code Bearer <a token this fake issued that has not expired>}. */
    public boolean isValidBearer(String authorization) {
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        Issued token = issued.get(authorization.substring("Bearer ".length()));
        return token != null && System.currentTimeMillis() < token.expiresAtMillis();
    }

    public String lastClientAssertion() {
        return lastClientAssertion;
    }

    public String lastTokenRequestPath() {
        return lastTokenRequestPath;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            Map<String, String> query = form(exchange.getRequestURI().getRawQuery());
            if (path.equals("/msi/token")) {
                if (!identityHeader.equals(exchange.getRequestHeaders().getFirst("X-IDENTITY-HEADER"))) {
                    send(exchange, 401, "{\"error\":\"invalid_identity_header\"}");
                    return;
                }
                String identity = query.getOrDefault("client_id", SYSTEM_ASSIGNED);
                Issued token = issue(identity, query.getOrDefault("resource", ""));
                if (token == null) {
                    send(exchange, 500, "{\"statusCode\":500,\"message\":\"identity endpoint failure\"}");
                    return;
                }
                send(
                        exchange,
                        200,
                        "{\"access_token\":\"" + token.token() + "\",\"expires_on\":\""
                                + token.expiresAtMillis() / 1000 + "\",\"resource\":\"" + token.resource()
                                + "\",\"token_type\":\"Bearer\",\"client_id\":\"" + identity + "\"}");
            } else if (path.endsWith("/oauth2/v2.0/token") && "POST".equals(exchange.getRequestMethod())) {
                lastTokenRequestPath = path;
                Map<String, String> body =
                        form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                lastClientAssertion = body.get("client_assertion");
                String identity = body.getOrDefault("client_id", "unknown");
                Issued token = lastClientAssertion == null ? null : issue(identity, body.getOrDefault("scope", ""));
                if (token == null) {
                    send(exchange, 400, "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS700016\"}");
                    return;
                }
                long expiresIn = Math.max(1, (token.expiresAtMillis() - System.currentTimeMillis()) / 1000);
                send(
                        exchange,
                        200,
                        "{\"token_type\":\"Bearer\",\"expires_in\":" + expiresIn + ",\"ext_expires_in\":" + expiresIn
                                + ",\"access_token\":\"" + token.token() + "\"}");
            } else if (path.endsWith("/.well-known/openid-configuration")) {
                String base = (https != null && exchange instanceof com.sun.net.httpserver.HttpsExchange)
                        ? authorityHost()
                        : "http://127.0.0.1:" + port() + "/";
                String tenant = path.split("/")[1];
                send(
                        exchange,
                        200,
                        "{\"issuer\":\"" + issuerV2(tenant) + "\",\"token_endpoint\":\"" + base + tenant
                                + "/oauth2/v2.0/token\",\"authorization_endpoint\":\"" + base + tenant
                                + "/oauth2/v2.0/authorize\",\"jwks_uri\":\"" + base + tenant
                                + "/discovery/v2.0/keys\"}");
            } else if (path.endsWith("/discovery/v2.0/keys")) {
                jwksFetches.incrementAndGet();
                if (jwksDelayMillis > 0) {
                    try {
                        Thread.sleep(jwksDelayMillis); // a slow key endpoint, on this request's own thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                jwksAnswered.incrementAndGet();
                if (jwksDown) {
                    send(exchange, 503, "{\"error\":\"temporarily_unavailable\"}");
                    return;
                }
                StringBuilder keys = new StringBuilder("{\"keys\":[");
                for (int i = 0; i < published.size(); i++) {
                    keys.append(i == 0 ? "" : ",")
                            .append(published.get(i).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY));
                }
                send(exchange, 200, keys.append("]}").toString());
            } else {
                send(exchange, 404, "{\"error\":\"not_found\"}");
            }
        }
    }

    // ---- caller tokens: Entra ID as an issuer of signed JWTs

    public static String issuerV1(String tenant) {
        return "https://sts.windows.net/" + tenant + "/";
    }

    public static String issuerV2(String tenant) {
        return "https://login.microsoftonline.com/" + tenant + "/v2.0";
    }

    public String openidConfig(String tenant) {
        return "http://127.0.0.1:" + port() + "/" + tenant + "/v2.0/.well-known/openid-configuration";
    }

    /** A new RSA signing key; published in the JWKS only when asked. */
    public RsaJsonWebKey signingKey(String kid, boolean publish) {
        try {
            RsaJsonWebKey key = RsaJwkGenerator.generateJwk(2048);
            key.setKeyId(kid);
            key.setAlgorithm(AlgorithmIdentifiers.RSA_USING_SHA256);
            key.setUse("sig");
            if (publish) {
                published.add(key);
            }
            return key;
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    public void publish(RsaJsonWebKey key) {
        published.add(key);
    }

    public void unpublish(String kid) {
        published.removeIf(k -> kid.equals(k.getKeyId()));
    }

    public void jwksDown(boolean down) {
        jwksDown = down;
    }

    /** Keys are answered this late (0: at once). */
    public void jwksDelay(long millis) {
        jwksDelayMillis = millis;
    }

    /** Key requests answered so far (a delayed one counts once its answer goes). */
    public int jwksAnswered() {
        return jwksAnswered.get();
    }

    public int jwksFetches() {
        return jwksFetches.get();
    }

    /** Signs the claims with the key (RS256, its kid in the header) into a compact JWT. */
    public static String mint(RsaJsonWebKey key, JwtClaims claims) {
        try {
            JsonWebSignature jws = new JsonWebSignature();
            jws.setPayload(claims.toJson());
            jws.setKey(key.getPrivateKey());
            jws.setKeyIdHeaderValue(key.getKeyId());
            jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.RSA_USING_SHA256);
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims of an Entra v2 app token: issuer, audience, ten minutes of life, the calling app in azp. */
    public static JwtClaims appToken(String tenant, String audience, String clientApp) {
        JwtClaims claims = new JwtClaims();
        claims.setIssuer(issuerV2(tenant));
        claims.setAudience(audience);
        claims.setExpirationTimeMinutesInTheFuture(10);
        claims.setIssuedAtToNow();
        claims.setNotBeforeMinutesInThePast(1);
        claims.setSubject("sub-" + clientApp);
        claims.setClaim("tid", tenant);
        claims.setClaim("azp", clientApp);
        claims.setClaim("oid", UUID.randomUUID().toString());
        return claims;
    }

    private Issued issue(String identity, String resource) {
        fetches.computeIfAbsent(identity, k -> new AtomicInteger()).incrementAndGet();
        if (failing.contains(identity)) {
            return null;
        }
        long lifetime = lifetimeSeconds.getOrDefault(identity, defaultLifetimeSeconds);
        String token = "fake-entra." + identity + "." + sequence.incrementAndGet() + "." + UUID.randomUUID();
        Issued result = new Issued(token, identity, resource, System.currentTimeMillis() + lifetime * 1000);
        issued.put(token, result);
        issueListeners.forEach(listener -> listener.accept(result));
        return result;
    }

    static Map<String, String> form(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(name, value);
        }
        return out;
    }

    static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        http.stop(0);
        if (https != null) {
            https.stop(0);
        }
    }
}
