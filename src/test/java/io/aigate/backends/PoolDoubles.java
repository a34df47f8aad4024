package io.aigate.backends;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Three fake Azure OpenAI resources on loopback (A, B, C: they name themselves in {@code x-served-by}) and a port that
 * refuses connections, with one pool per scenario of {@link BackendPoolsTest}. Scenarios have backends of their own
 * (on the same fakes), so no breaker state passes from one test to the next.
 */
public class PoolDoubles implements QuarkusTestResourceLifecycleManager {

    public static FakeAzureOpenAi a;
    public static FakeAzureOpenAi b;
    public static FakeAzureOpenAi c;

    private final Map<String, String> config = new HashMap<>();

    @Override
    public Map<String, String> start() {
        a = FakeAzureOpenAi.start(0).named("A");
        b = FakeAzureOpenAi.start(0).named("B");
        c = FakeAzureOpenAi.start(0).named("C");
        String dead = "http://127.0.0.1:" + LocalRedis.freePort();
        Path keyFile;
        try {
            keyFile = Files.createTempFile("aigate-pool-key", ".txt");
            Files.writeString(keyFile, CloudDoubles.PROVIDER_KEY + "\n");
            keyFile.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }

        // PTU first, two pay-as-you-go regions when it is full
        backend("spill-ptu", a.url());
        backend("spill-east", b.url());
        backend("spill-west", c.url());
        member("spill", "spill-ptu", 1, 1);
        member("spill", "spill-east", 2, 1);
        member("spill", "spill-west", 2, 1);
        route("spill", "spill-model");

        // a breaker that trips on the second failure within 10 s, and rests 5 s
        backend("count-a", a.url());
        config.put("aigate.backends.count-a.circuit-breaker.failure-condition.count", "2");
        config.put("aigate.backends.count-a.circuit-breaker.trip-duration", "5s");
        backend("count-b", b.url());
        member("count", "count-a", 1, 1);
        member("count", "count-b", 2, 1);
        route("count", "count-model");

        // weights within one priority group
        backend("w-a", a.url());
        backend("w-b", b.url());
        member("weights", "w-a", 1, 3);
        member("weights", "w-b", 1, 1);
        route("weights", "weights-model");

        // a stream that stalls after its first event: cut, never retried
        backend("st-a", a.url());
        config.put("aigate.backends.st-a.timeout", "1s");
        backend("st-b", b.url());
        member("stream", "st-a", 1, 1);
        member("stream", "st-b", 2, 1);
        route("stream", "stream-model");

        // both members throttled
        backend("r-a", a.url());
        backend("r-b", b.url());
        member("resting", "r-a", 1, 1);
        member("resting", "r-b", 1, 1);
        route("resting", "resting-model");

        // a member that refuses connections, before one that works
        backend("gone", dead);
        backend("rf-b", b.url());
        member("refused", "gone", 1, 1);
        member("refused", "rf-b", 2, 1);
        route("refused", "refused-model");

        // a pool of one that refuses connections: one failure trips it for 8 s
        backend("down-a", dead);
        config.put("aigate.backends.down-a.circuit-breaker.failure-condition.count", "1");
        config.put("aigate.backends.down-a.circuit-breaker.trip-duration", "8s");
        member("down", "down-a", 1, 1);
        route("down", "down-model");

        // members with different credentials and deployment names
        config.put("aigate.backends.k-east.url", b.url());
        config.put("aigate.backends.k-east.credential", "api-key");
        config.put("aigate.backends.k-east.api-key-file", keyFile.toString());
        config.put("aigate.backends.k-east.deployment-names.keyed-model", "east-name");
        backend("k-west", c.url());
        member("keyed", "k-east", 1, 1);
        member("keyed", "k-west", 2, 1);
        route("keyed", "keyed-model");

        // a member that does not answer in time
        backend("sl-a", a.url());
        config.put("aigate.backends.sl-a.timeout", "1s");
        backend("sl-b", b.url());
        member("slow-pool", "sl-a", 1, 1);
        member("slow-pool", "sl-b", 2, 1);
        route("slow-pool", "slowpool-model");

        // a member with one connection whose 429 body stalls: the connection must not stay held
        backend("h-a", a.url());
        config.put("aigate.backends.h-a.timeout", "1s");
        config.put("aigate.backends.h-a.max-connections", "1");
        backend("h-b", b.url());
        member("held", "h-a", 1, 1);
        member("held", "h-b", 2, 1);
        route("held", "held-model");

        // a route that never sends a request twice once a backend may have served it, and retries 503 only
        backend("once-dead", dead);
        backend("once-a", a.url());
        config.put("aigate.backends.once-a.timeout", "1s");
        backend("once-b", b.url());
        member("once", "once-dead", 1, 1);
        member("once", "once-a", 2, 1);
        member("once", "once-b", 3, 1);
        route("once", "once-model");
        config.put("aigate.routes.once.retry.unanswered", "false");
        config.put("aigate.routes.once.retry.status-code-ranges", "503");

        // a PTU with one connection per event loop and a breaker that a single failure would trip
        backend("n-a", a.url());
        config.put("aigate.backends.n-a.max-connections", "1");
        config.put("aigate.backends.n-a.circuit-breaker.failure-condition.count", "1");
        backend("n-b", b.url());
        member("crowded", "n-a", 1, 1);
        member("crowded", "n-b", 2, 1);
        route("crowded", "crowded-model");
        return config;
    }

    private void backend(String name, String url) {
        config.put("aigate.backends." + name + ".url", url);
        config.put("aigate.backends." + name + ".credential", "none");
    }

    private void member(String pool, String backend, int priority, int weight) {
        config.put("aigate.pools." + pool + ".members." + backend + ".priority", Integer.toString(priority));
        config.put("aigate.pools." + pool + ".members." + backend + ".weight", Integer.toString(weight));
    }

    private void route(String pool, String deployment) {
        config.put("aigate.routes." + pool + ".deployments", deployment);
        config.put("aigate.routes." + pool + ".backend", pool);
    }

    @Override
    public void stop() {
        for (FakeAzureOpenAi fake : new FakeAzureOpenAi[] {a, b, c}) {
            if (fake != null) {
                fake.close();
            }
        }
    }
}
