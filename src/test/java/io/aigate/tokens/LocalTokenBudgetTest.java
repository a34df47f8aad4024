package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.QuotaPeriod;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The outage fallback's arithmetic, on a clock the test sets: a leaky bucket and a windowed quota per counter. */
class LocalTokenBudgetTest {

    private static final Instant T0 = Instant.parse("2026-11-29T10:00:00Z");

    private static TokenCounter counter(long tpm, long quota) {
        return new TokenCounter("t", "s:t-" + tpm + "-" + quota, tpm, quota, QuotaPeriod.HOURLY);
    }

    @Test
    void eachReplicaTakesItsShareRoundedDownButNeverToNothing() {
        LocalTokenBudget half = new LocalTokenBudget(0.5);
        assertEquals(500, half.scaled(1001));
        assertEquals(1, half.scaled(1), "a limit of 1 stays a limit");
        assertEquals(0, half.scaled(0));
        assertEquals(0, half.scaled(-7));
    }

    @Test
    void theBucketLeaksContinuously() {
        LocalTokenBudget budget = new LocalTokenBudget(1.0);
        TokenCounter counter = counter(600, 0);
        assertTrue(budget.admit(counter, 600, T0).admitted());
        Verdict full = budget.admit(counter, 60, T0);
        assertEquals(Verdict.Result.RATE_LIMITED, full.result());
        assertEquals(6, full.retryAfterSeconds(), "60 tokens drain in 6 s at 600 a minute");
        assertEquals(
                Verdict.Result.RATE_LIMITED,
                budget.admit(counter, 60, T0.plusSeconds(5)).result());
        assertTrue(budget.admit(counter, 60, T0.plusSeconds(6)).admitted());
    }

    @Test
    void theQuotaIsPerWindowAndRollsAtItsBoundary() {
        LocalTokenBudget budget = new LocalTokenBudget(1.0);
        TokenCounter counter = counter(0, 100);
        assertTrue(budget.admit(counter, 100, T0).admitted());
        assertEquals(
                Verdict.Result.QUOTA_EXCEEDED,
                budget.admit(counter, 1, T0.plusSeconds(10)).result());
        assertTrue(budget.admit(counter, 1, T0.plusSeconds(3600)).admitted(), "the next hour");
    }

    @Test
    void aSettlementCorrectsItsOwnWindowOnlyAndNeverBelowZero() {
        LocalTokenBudget budget = new LocalTokenBudget(1.0);
        TokenCounter counter = counter(0, 1000);
        Verdict admitted = budget.admit(counter, 400, T0);
        assertEquals(600, admitted.remainingQuotaTokens());
        budget.settle(new TokenBudget.Hold(counter, T0, 400, "local"), -350, T0.plusSeconds(1));
        assertEquals(949, budget.admit(counter, 1, T0.plusSeconds(2)).remainingQuotaTokens(), "50 + 1 used");
        // a refund larger than the hold takes back no more than the hold
        budget.settle(new TokenBudget.Hold(counter, T0, 10, "local"), -5000, T0.plusSeconds(3));
        assertTrue(budget.admit(counter, 0, T0.plusSeconds(4)).remainingQuotaTokens() <= 1000);
        // once the next window has begun, a late settlement of the last one has nothing left to correct in it
        assertEquals(990, budget.admit(counter, 10, T0.plusSeconds(3600)).remainingQuotaTokens());
        budget.settle(new TokenBudget.Hold(counter, T0, 400, "local"), 100, T0.plusSeconds(3601));
        assertEquals(990, budget.admit(counter, 0, T0.plusSeconds(3602)).remainingQuotaTokens());
    }

    @Test
    void aRateRefundNeverReturnsMoreThanIsStillHeld() {
        // held 600 admitted a minute ago at 600/min: all of it has drained, so nothing is given back
        assertEquals(0.0, LocalTokenBudget.rateCorrection(-600, 600, T0, T0.plusSeconds(60), 600), 0.0);
        assertEquals(-300.0, LocalTokenBudget.rateCorrection(-600, 600, T0, T0.plusSeconds(30), 600));
        assertEquals(250.0, LocalTokenBudget.rateCorrection(250, 600, T0, T0.plusSeconds(30), 600));
    }
}
