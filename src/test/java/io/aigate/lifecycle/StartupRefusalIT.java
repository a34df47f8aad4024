package io.aigate.lifecycle;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.PackagedAigate;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged sidecar refuses to start on values whose reading lives where they are used (a status list in the
 * breaker and the retry, the counter key in its producer), with the same one sentence the start-up check gives: the
 * key and the fix.
 */
class StartupRefusalIT {

    static LocalRedis redis;
    static FakeAzureOpenAi openAi;

    @BeforeAll
    static void start() throws Exception {
        redis = new LocalRedis(LocalRedis.freePort()).start();
        openAi = FakeAzureOpenAi.start(0);
    }

    @AfterAll
    static void stop() {
        openAi.close();
        redis.close();
    }

    private static void refused(String variable, String value, String sentence) throws Exception {
        String output = PackagedAigate.refusedAgainstFakes(redis.url(), openAi.url(), Map.of(variable, value));
        assertTrue(output.contains(sentence), "expected «" + sentence + "» in: " + output);
        assertTrue(!output.contains("Listening on"), "nothing served before the refusal: " + output);
    }

    @Test
    void aBreakersStatusListThatIsNoFailureStopsStartUp() throws Exception {
        refused(
                "AIGATE_BACKENDS_AOAI_CIRCUIT_BREAKER_FAILURE_CONDITION_STATUS_CODE_RANGES",
                "200-599",
                "aigate.backends.aoai.circuit-breaker.failure-condition.status-code-ranges includes 200, which is not "
                        + "a failure: list statuses from 400 up, e.g. 429,500-599.");
    }

    @Test
    void aCounterKeyThatNamesNothingStopsStartUp() throws Exception {
        refused(
                "AIGATE_TOKEN_LIMIT_COUNTER_KEY",
                "everyone",
                "aigate.token-limit.counter-key is 'everyone': use subscription, client-app or header:<name>.");
    }
}
