package io.aigate.backends;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.FakeAzureOpenAi.Scripted;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.HeldStreams;
import io.aigate.testing.TestClock;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Backend pools against three fake Azure OpenAI resources and a port that refuses connections, over real HTTP: which
 * member serves, when a member rests and for how long, what is retried and what never is, and what the caller is told
 * when every member rests.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(BackendPoolsTest.Pools.class)
class BackendPoolsTest extends io.aigate.testing.AigateTest {

    public static class Pools implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(PoolDoubles.class));
        }
    }

    @Inject
    TestClock clock;

    /** Time stands still (and moves on only as a test says), so a rest's length is checked to the millisecond. */
    @BeforeEach
    void freshBackends() {
        clock.set(clock.instant());
        for (FakeAzureOpenAi fake : new FakeAzureOpenAi[] {PoolDoubles.a, PoolDoubles.b, PoolDoubles.c}) {
            fake.clear();
        }
    }

    HttpResponse<String> call(String deployment) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(base.toString())
                                .resolve("/openai/deployments/" + deployment + "/chat/completions"))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String servedBy(HttpResponse<?> response) {
        return response.headers().firstValue("x-served-by").orElse(null);
    }

    double state(String backend, String state) throws Exception {
        return metric("aigate_backend_state", "backend=\"" + backend + "\",state=\"" + state + "\"");
    }

    double retries(String route, String backend, String why) throws Exception {
        return metric(
                "aigate_backend_retries_total",
                "backend=\"" + backend + "\",route=\"" + route + "\",why=\"" + why + "\"");
    }

    double trips(String backend, String why) throws Exception {
        return metric("aigate_backend_trips_total", "backend=\"" + backend + "\",why=\"" + why + "\"");
    }

    double totalTokens(String route, String backend, String deployment) throws Exception {
        return metric(
                "aigate_tokens_total",
                "backend=\"" + backend + "\",deployment=\"" + deployment + "\",route=\"" + route
                        + "\",source=\"reported\",subscription=\"test-suite\",type=\"total\"");
    }

    @Test
    void aRouteThatNeverPaysTwiceRetriesOnlyWhatNoBackendServedAndTheStatusesItLists() throws Exception {
        // the first member refuses connections (never saw it: retried); the second had it and timed out (not retried)
        PoolDoubles.a.answerNext(Scripted.slow(3000));
        HttpResponse<String> late = call("once-model");
        assertEquals(504, late.statusCode(), late.body());
        assertEquals(1, PoolDoubles.a.served());
        assertEquals(0, PoolDoubles.b.served(), "a request the second member may have served is not sent again");
        assertEquals(1, retries("once", "once-dead", "connection_failure"));
        assertEquals(0, retries("once", "once-a", "timeout"));

        // a 429 is not among its statuses: relayed as it came
        PoolDoubles.a.answerNext(Scripted.status(429));
        HttpResponse<String> throttled = call("once-model");
        assertEquals(429, throttled.statusCode());
        assertEquals("A", servedBy(throttled));
        assertEquals(0, PoolDoubles.b.served());

        // a 503 is: the next member answers
        PoolDoubles.a.answerNext(Scripted.status(503));
        HttpResponse<String> retried = call("once-model");
        assertEquals(200, retried.statusCode(), retried.body());
        assertEquals("B", servedBy(retried));
        assertEquals(1, retries("once", "once-a", "5xx"));
    }

    @Test
    void aMemberWhoseConnectionsAreAllInUseIsSkippedNotRested() throws Exception {
        // streams hold n-a's one connection per event loop; one more request than there are event loops must go to
        // the next member, at once, and n-a stays in the pool
        try (HeldStreams streams = new HeldStreams(PoolDoubles.a)) {
            HttpResponse<InputStream> spilled =
                    streams.until(HTTP, base, "crowded-model", r -> !"A".equals(servedBy(r)));
            assertNotNull(spilled, "a request found n-a's connection in use");
            assertEquals(200, spilled.statusCode());
            assertEquals("B", servedBy(spilled));
            spilled.body().close();
            assertEquals(streams.size(), PoolDoubles.a.served(), "the one that spilled never reached n-a");
            assertEquals(1, retries("crowded", "n-a", "busy"));
            assertEquals(0, trips("n-a", "failures"));
            assertEquals(1, state("n-a", "closed"), "aigate's own limit is not n-a's failure");
        }
    }

    @Test
    void aRetriedAnswerWhoseBodyStallsDoesNotKeepItsConnection() throws Exception {
        // h-a has one connection; its 429 sends half a body and then nothing for 30 s
        PoolDoubles.a.answerNext(Scripted.status(429, "Retry-After", "1").stalling(30_000));
        HttpResponse<String> first = call("held-model");
        assertEquals(200, first.statusCode(), first.body());
        assertEquals("B", servedBy(first));
        // the rest is over; the stalled body has been silent for longer than h-a's 1 s timeout
        clock.advance(Duration.ofSeconds(1));
        Thread.sleep(1500);
        long start = System.nanoTime();
        HttpResponse<String> probe = call("held-model");
        assertEquals("A", servedBy(probe), "the probe had h-a's one connection: the stalled 429 no longer held it");
        assertTrue(
                Duration.ofNanos(System.nanoTime() - start).toMillis() < 2000,
                "the probe did not wait for a connection");
    }

    @Test
    void aThrottledPtuSpillsOverToPayAsYouGoAndRestsExactlyAsLongAsItsRetryAfterSays() throws Exception {
        PoolDoubles.a.answerNext(Scripted.status(429, "Retry-After", "7"));
        double east = totalTokens("spill", "spill-east", "spill-model");
        double west = totalTokens("spill", "spill-west", "spill-model");
        double ptu = totalTokens("spill", "spill-ptu", "spill-model");

        HttpResponse<String> first = call("spill-model");
        assertEquals(200, first.statusCode(), first.body());
        assertTrue(List.of("B", "C").contains(servedBy(first)), "spilled to a pay-as-you-go region");
        assertEquals(1, PoolDoubles.a.served());
        assertEquals(1, retries("spill", "spill-ptu", "429"));
        assertEquals(1, trips("spill-ptu", "throttled"));
        assertEquals(1, state("spill-ptu", "open"));

        int payg = 1;
        for (Duration wait : new Duration[] {Duration.ZERO, Duration.ofMillis(6900)}) {
            clock.advance(wait);
            HttpResponse<String> resting = call("spill-model");
            assertEquals(200, resting.statusCode());
            assertTrue(List.of("B", "C").contains(servedBy(resting)), "the PTU rests: no request is sent to it");
            payg++;
        }
        assertEquals(1, PoolDoubles.a.served(), "not one request went to the resting PTU");

        clock.advance(Duration.ofMillis(100)); // 7 s after the 429: one probe
        HttpResponse<String> probe = call("spill-model");
        assertEquals("A", servedBy(probe), "its rest is over: the probe goes to the PTU and it answers");
        assertEquals(1, state("spill-ptu", "closed"));
        assertEquals("A", servedBy(call("spill-model")), "closed again: the PTU serves first");

        // tokens are charged to the member that served (a request is metered as it ends, which may be just after its
        // caller read the answer)
        io.aigate.testing.Await.until(
                "the last answer metered",
                Duration.ofSeconds(5),
                () -> totalTokens("spill", "spill-ptu", "spill-model") - ptu >= 19 * 2);
        assertEquals(19 * 2, totalTokens("spill", "spill-ptu", "spill-model") - ptu);
        assertEquals(
                19 * payg,
                totalTokens("spill", "spill-east", "spill-model")
                        - east
                        + totalTokens("spill", "spill-west", "spill-model")
                        - west);
    }

    @Test
    void aBreakerTripsOnItsCountRestsForItsTripDurationThenOneProbeDecides() throws Exception {
        PoolDoubles.a.answerAlways(Scripted.status(500));
        assertEquals("B", servedBy(call("count-model")), "a 500 is retried on the next member");
        assertEquals("B", servedBy(call("count-model")));
        assertEquals(2, PoolDoubles.a.served());
        assertEquals(1, trips("count-a", "failures"), "the second failure within 10 s trips it");
        assertEquals("B", servedBy(call("count-model")));
        assertEquals(2, PoolDoubles.a.served(), "tripped: nothing is sent to it");

        clock.advance(Duration.ofSeconds(5));
        assertEquals("B", servedBy(call("count-model")), "the probe fails, and the request still gets its answer");
        assertEquals(3, PoolDoubles.a.served());
        assertEquals(1, trips("count-a", "probe_failed"));
        assertEquals("B", servedBy(call("count-model")));
        assertEquals(3, PoolDoubles.a.served(), "a failed probe rests it again");

        PoolDoubles.a.answerAlways(null);
        clock.advance(Duration.ofSeconds(5));
        assertEquals("A", servedBy(call("count-model")), "the probe succeeds");
        assertEquals("A", servedBy(call("count-model")), "and the breaker is closed");
        assertEquals(1, state("count-a", "closed"));
        assertEquals(3, retries("count", "count-a", "5xx"));
    }

    @Test
    void weightsShareAPriorityGroup() throws Exception {
        int a = 0;
        int total = 400;
        for (int i = 0; i < total; i++) {
            HttpResponse<String> response = call("weights-model");
            assertEquals(200, response.statusCode());
            if ("A".equals(servedBy(response))) {
                a++;
            }
        }
        double share = a / (double) total;
        // weight 3 against 1: 0.75, and 0.07 is more than three standard deviations of 400 draws
        assertTrue(Math.abs(share - 0.75) < 0.07, "A served " + share + " of the requests");
        assertEquals(total, PoolDoubles.a.served() + PoolDoubles.b.served());
    }

    @Test
    void aStreamIsNeverRetriedOnceItsFirstByteWasRelayed() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        PoolDoubles.a.holdStreamAfterFirstEvent(release); // one event, then silence beyond the member's 1 s timeout
        HttpResponse<InputStream> response = HTTP.send(
                HttpRequest.newBuilder(URI.create(base.toString())
                                .resolve("/openai/deployments/stream-model/chat/completions"))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true,\"messages\":[]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("A", servedBy(response));
        assertThrows(IOException.class, () -> response.body().readAllBytes(), "the stalled stream is cut");
        release.countDown();
        assertEquals(0, PoolDoubles.b.served(), "and not sent again anywhere");
        assertEquals(0, retries("stream", "st-a", "timeout"));
    }

    @Test
    void whenEveryMemberRestsTheCallerIsToldTheShortestRestAndNoBackendIsCalled() throws Exception {
        PoolDoubles.a.answerNext(Scripted.status(429, "Retry-After", "20"));
        PoolDoubles.b.answerNext(Scripted.status(429, "retry-after-ms", "8200"));
        HttpResponse<String> both = call("resting-model");
        assertEquals(429, both.statusCode(), "the last member's own 429 is relayed");
        assertEquals(1, PoolDoubles.a.served());
        assertEquals(1, PoolDoubles.b.served());

        HttpResponse<String> resting = call("resting-model");
        assertEquals(429, resting.statusCode());
        assertEquals("9", resting.headers().firstValue("Retry-After").orElse(null), "8.2 s, rounded up");
        JsonObject body = new JsonObject(resting.body());
        assertEquals(429, body.getInteger("statusCode"));
        assertTrue(body.getString("message").contains("Try again in 9 seconds"), body.getString("message"));
        assertNull(servedBy(resting), "aigate answered itself");
        assertEquals(1, metric("aigate_backend_unavailable_total", "route=\"resting\",why=\"throttled\""));
        assertEquals(1, PoolDoubles.a.served() + PoolDoubles.b.served() - 1, "no backend was called");
    }

    @Test
    void aMemberThatRefusesConnectionsIsSkippedAndAPoolOfItAloneSays503() throws Exception {
        HttpResponse<String> failover = call("refused-model");
        assertEquals("B", servedBy(failover));
        assertEquals(1, retries("refused", "gone", "connection_failure"));

        assertEquals(502, call("down-model").statusCode(), "nothing else to try: the backend could not be reached");
        assertEquals(1, trips("down-a", "failures"));
        HttpResponse<String> down = call("down-model");
        assertEquals(503, down.statusCode(), down.body());
        assertEquals("8", down.headers().firstValue("Retry-After").orElse(null));
        assertTrue(down.body().contains("unavailable"), down.body());
    }

    @Test
    void eachMemberGetsItsOwnCredentialAndItsOwnDeploymentNameAndNeverAnother() throws Exception {
        PoolDoubles.b.answerNext(Scripted.status(429));
        HttpResponse<String> response = call("keyed-model");
        assertEquals("C", servedBy(response));

        FakeAzureOpenAi.Received east = PoolDoubles.b.next(5);
        assertEquals("/openai/deployments/east-name/chat/completions", east.path());
        assertEquals(CloudDoubles.PROVIDER_KEY, east.header("api-key"));
        FakeAzureOpenAi.Received west = PoolDoubles.c.next(5);
        assertEquals("/openai/deployments/keyed-model/chat/completions", west.path());
        assertNull(west.header("api-key"), "the first member's key never reaches the second");
        assertNull(west.header("authorization"));

        // the v1 API names the deployment in the body: the member's name goes there
        HttpResponse<String> v1 = HTTP.send(
                HttpRequest.newBuilder(URI.create(base.toString()).resolve("/openai/v1/chat/completions"))
                        .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"keyed-model\",\"messages\":[]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("B", servedBy(v1), v1.body());
        assertEquals("east-name", new JsonObject(PoolDoubles.b.next(5).body()).getString("model"));
    }

    @Test
    void aMemberThatDoesNotAnswerInTimeIsLeftForTheNext() throws Exception {
        PoolDoubles.a.answerNext(Scripted.slow(3000));
        HttpResponse<String> response = call("slowpool-model");
        assertEquals(200, response.statusCode());
        assertEquals("B", servedBy(response));
        assertEquals(1, retries("slow-pool", "sl-a", "timeout"));
    }

    @Test
    void nothingAboutPoolsChangesARouteWithOneBackend() throws Exception {
        Map<String, String> none = Map.of();
        assertTrue(none.isEmpty());
        // the suite's default route has one backend and no breaker: its own 429s are relayed, every time
        for (int i = 0; i < 4; i++) {
            assertEquals(429, call("throttled").statusCode());
        }
        assertEquals(1, state("aoai", "closed"), "a backend used alone has no breaker unless configured");
    }
}
