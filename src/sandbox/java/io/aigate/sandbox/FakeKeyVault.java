package io.aigate.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for Azure Key Vault's secrets API on loopback, over real HTTPS, as the Azure SDK's SecretClient speaks to
 * it: an unauthenticated request gets the 401 challenge naming the tenant and resource, an authenticated one must carry
 * a bearer token the fake Entra ID issued (for the Key Vault resource) and gets the secret's current version.
 */
public final class FakeKeyVault implements AutoCloseable {

    private final HttpsServer https;
    private final FakeEntraId entra;
    private final String tenant;
    private final Map<String, String> secrets = new ConcurrentHashMap<>();
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger asked = new AtomicInteger();
    private final AtomicInteger versions = new AtomicInteger();
    private volatile boolean down;

    private FakeKeyVault(HttpsServer https, FakeEntraId entra, String tenant) {
        this.https = https;
        this.entra = entra;
        this.tenant = tenant;
    }

    public static FakeKeyVault start(FakeEntraId entra, String tenant, Path keyStore, char[] password) {
        try {
            SSLContext tls = FakeEntraId.serverTls(keyStore, password);
            HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            FakeKeyVault vault = new FakeKeyVault(server, entra, tenant);
            server.createContext("/", vault::handle);
            server.setExecutor(Executors.newCachedThreadPool(FakeEntraId.daemon("fake-key-vault")));
            server.start();
            return vault;
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the fake Key Vault", e);
        }
    }

    /** {@code https://127.0.0.1:<port>}: the vault URL. */
    public String url() {
        return "https://127.0.0.1:" + https.getAddress().getPort();
    }

    /** Sets (or rotates) a secret: a new version becomes the current one. */
    public void put(String name, String value) {
        secrets.put(name, value);
        versions.incrementAndGet();
    }

    /** While down, every request gets 503. */
    public void down(boolean isDown) {
        down = isDown;
    }

    /** Authenticated requests for a secret, found or not. */
    public int asked() {
        return asked.get();
    }

    /** Authenticated reads of a secret's value. */
    public int reads() {
        return reads.get();
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            if (down) {
                FakeEntraId.send(exchange, 503, "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"down\"}}");
                return;
            }
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization == null) {
                exchange.getResponseHeaders()
                        .set(
                                "WWW-Authenticate",
                                "Bearer authorization=\"" + "https://login.microsoftonline.com/" + tenant
                                        + "\", resource=\"https://vault.azure.net\"");
                FakeEntraId.send(exchange, 401, "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"no token\"}}");
                return;
            }
            FakeEntraId.Issued issued =
                    authorization.startsWith("Bearer ") ? entra.issued(authorization.substring(7)) : null;
            if (issued == null
                    || issued.expiresAtMillis() < System.currentTimeMillis()
                    || !issued.resource().contains("https://vault.azure.net")) {
                FakeEntraId.send(exchange, 401, "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"bad token\"}}");
                return;
            }
            asked.incrementAndGet();
            String[] path = exchange.getRequestURI().getPath().split("/");
            String value = path.length >= 3 && "secrets".equals(path[1]) ? secrets.get(path[2]) : null;
            if (value == null) {
                FakeEntraId.send(
                        exchange, 404, "{\"error\":{\"code\":\"SecretNotFound\",\"message\":\"no such secret\"}}");
                return;
            }
            reads.incrementAndGet();
            String id = url() + "/secrets/" + path[2] + "/v" + versions.get();
            FakeEntraId.send(
                    exchange,
                    200,
                    "{\"value\":\"" + value + "\",\"id\":\"" + id + "\",\"attributes\":{"
                            + "\"enabled\":true,\"created\":1700000000,\"updated\":1700000000,\"recoveryLevel\":\"Recoverable\"}}");
        } catch (Exception e) {
            // the exchange is closed either way
        }
    }

    @Override
    public void close() {
        https.stop(0);
    }
}
