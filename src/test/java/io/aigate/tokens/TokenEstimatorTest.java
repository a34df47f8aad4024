package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class TokenEstimatorTest {

    @Test
    void aModelCountsWithoutALoadOnlyOnceItsEncodingWasLookedUp() {
        // a deployment named after a model of another encoding (cl100k), and one no model table knows (o200k)
        for (String model : new String[] {"gpt-4", "deployment-" + UUID.randomUUID()}) {
            if (model.startsWith("deployment-")) {
                assertFalse(TokenEstimator.loadedFor(model), "a deployment never seen is not known to be ready");
            }
            long tokens = TokenEstimator.count("Say hello to the world", model);
            assertTrue(tokens > 0, model);
            assertTrue(TokenEstimator.loadedFor(model), model + " is ready after its first count");
        }
        assertFalse(TokenEstimator.loadedFor("deployment-" + UUID.randomUUID()));
    }
}
