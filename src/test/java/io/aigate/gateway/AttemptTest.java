package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.StatusRanges;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The retry rule alone: which attempt results go on to the next member, with no socket and no pool. */
class AttemptTest {

    static Attempt.Rule rule(boolean unanswered, String... statuses) {
        return new Attempt.Rule(
                2,
                30_000_000_000L,
                StatusRanges.read("aigate.routes.test.retry.status-code-ranges", List.of(statuses)),
                unanswered);
    }

    @Test
    void whatNoBackendHadIsAlwaysTriedAgain() {
        Attempt.Rule strict = rule(false, "429");
        assertTrue(strict.retries(new Attempt.Busy()));
        assertTrue(strict.retries(new Attempt.NoConnection(false)));
        assertTrue(strict.retries(new Attempt.NoConnection(true)));
        assertTrue(strict.retries(new Attempt.NoCredential()));
    }

    /** Sent and never answered: it may have been served and billed, so only a route that says so pays twice. */
    @Test
    void whatABackendMayHaveServedIsTriedAgainOnlyWhereTheRouteSaysSo() {
        assertFalse(rule(false, "429").retries(new Attempt.Unanswered(true)));
        assertTrue(rule(true, "429").retries(new Attempt.Unanswered(true)));
    }

    @Test
    void answersAreTriedAgainByTheRoutesStatuses() {
        Attempt.Rule rule = rule(true, "429", "500-599");
        assertTrue(rule.retries(new Attempt.Answered(429)));
        assertTrue(rule.retries(new Attempt.Answered(503)));
        assertFalse(rule.retries(new Attempt.Answered(400)));
        assertFalse(rule.retries(new Attempt.Answered(200)));
        assertTrue(rule(true, "404").retries(new Attempt.Answered(404)), "a route may list another status");
    }

    /** Span error types and retry tags come from the result, in a bounded set. */
    @Test
    void eachResultNamesItsSpanErrorAndItsRetryTag() {
        assertEquals("429", new Attempt.Answered(429).why());
        assertEquals("5xx", new Attempt.Answered(502).why());
        assertEquals("other_status", new Attempt.Answered(404).why());
        assertEquals("timeout", new Attempt.Unanswered(true).why());
        assertEquals("connection_failure", new Attempt.NoConnection(false).why());
        assertTrue(new Attempt.NoConnection(true).timedOut());
        assertFalse(new Attempt.Busy().timedOut());
        assertEquals("busy", new Attempt.Busy().errorType());
        assertEquals("credential", new Attempt.NoCredential().why());
    }

    @Test
    void aSingleMemberIsTriedOnce() {
        Attempt.Rule rule = rule(true, "429");
        assertEquals(1, rule.maxAttempts(1));
        assertEquals(3, rule.maxAttempts(2));
    }
}
