package io.aigate.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.CloudDoubles;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
class BackendTokenRefreshTest {

    @TestHTTPResource("/openai/deployments/gpt-short/chat/completions")
    URL shortLived;

    @Test
    void aShortLivedTokenIsRefreshedAheadOncePerLifetimeWhileRequestsFlow() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        CloudDoubles.openAi.clear();
        int before = CloudDoubles.entra.fetches(CloudDoubles.SHORT_LIVED);
        Set<String> tokensSeen = new HashSet<>();
        int requests = 0;
        long start = System.currentTimeMillis();
        long end = start + 3 * CloudDoubles.SHORT_LIFETIME_SECONDS * 1000 / 2;
        while (System.currentTimeMillis() < end) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(shortLived.toString()))
                            .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                            .POST(HttpRequest.BodyPublishers.ofString("{}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), response.body());
            FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
            String authorization = got.header("Authorization");
            assertTrue(CloudDoubles.entra.isValidBearer(authorization), "expired or unknown token reached the backend");
            tokensSeen.add(authorization);
            requests++;
            // paced traffic across real token lifetimes: azure-identity judges a token's expiry by the system clock
            Thread.sleep(50);
        }
        int fetched = CloudDoubles.entra.fetches(CloudDoubles.SHORT_LIVED) - before;
        long elapsed = System.currentTimeMillis() - start;
        // 9 s of traffic, 6 s tokens refreshed at half-life: about 3 fetches, however many requests were made. Entra's
        // expires_on has whole seconds and a loaded machine answers late, so a cycle can run short: allow one fetch
        // per 2 s of traffic (5 here) — per-request fetching would be 30 and more
        long most = elapsed / 2000 + 1;
        assertTrue(requests > 30, "requests " + requests);
        assertTrue(
                fetched >= 2 && fetched <= most,
                "fetches " + fetched + " for " + requests + " requests in " + elapsed + " ms (at most " + most + ")");
        assertTrue(tokensSeen.size() >= 2, "the backend saw the refreshed token");
    }
}
