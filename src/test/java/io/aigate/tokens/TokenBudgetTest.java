package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Await;
import io.aigate.testing.Configs;
import io.aigate.testing.LogCapture;
import io.aigate.testing.TestClock;
import io.aigate.testing.WithRealRedis;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The fleet-wide budget against a real Redis: instances share it, concurrent admissions cannot overshoot it by more
 * than one reservation, the bucket leaks continuously, quota windows roll at UTC boundaries, and an unreachable Redis
 * falls back as configured — visibly.
 */
class TokenBudgetTest extends WithRealRedis {

    static AigateConfig config(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(Map.of("aigate.subscription-key.redis-timeout", "500ms"));
        all.putAll(values);
        return Configs.aigate(all);
    }

    /** One aigate instance's budget: its own Redis client, its own local fallback, its own metrics. */
    record Instance(TokenBudget budget, SimpleMeterRegistry registry) {
        Verdict admit(TokenCounter counter, long tokens) throws Exception {
            return await(budget.admit(counter, tokens));
        }

        double storeUp() {
            return registry.get("aigate.token.limit.store.up").gauge().value();
        }
    }

    static Instance instance(String redisUrl, TestClock clock, Map<String, String> values) {
        AigateConfig config = config(values);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TokenBudget budget = new TokenBudget(
                config,
                Redis.createClient(vertx, redisUrl),
                new TokenMetrics.Limit(registry, config.tokenLimit()),
                clock);
        return new Instance(budget, registry);
    }

    static Instance instance(TestClock clock) {
        return instance(redis.url(), clock, Map.of());
    }

    static <T> T await(Future<T> f) throws Exception {
        return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static TokenCounter rate(long tpm) {
        String id = "t-" + UUID.randomUUID();
        return new TokenCounter(id, "s:" + id, tpm, 0, QuotaPeriod.MONTHLY);
    }

    static TokenCounter quota(long quota, QuotaPeriod period) {
        String id = "q-" + UUID.randomUUID();
        return new TokenCounter(id, "s:" + id, 0, quota, period);
    }

    @Test
    void twoInstancesSpendFromOneBudget() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        Instance a = instance(clock);
        Instance b = instance(clock);
        TokenCounter counter = rate(1000);
        int admitted = 0;
        for (int i = 0; i < 20; i++) {
            Verdict v = (i % 2 == 0 ? a : b).admit(counter, 100);
            if (v.admitted()) {
                admitted++;
            } else {
                assertEquals(Verdict.Result.RATE_LIMITED, v.result());
                assertEquals("redis", v.store());
            }
        }
        // one budget of 1000: ten reservations of 100 in all, whichever instance took them
        assertEquals(10, admitted);
        Verdict refused = b.admit(counter, 100);
        assertEquals(Verdict.Result.RATE_LIMITED, refused.result());
        assertEquals(0, refused.remainingTokens());
        // the bucket leaks 1000 tokens a minute: after 6 s, 100 fit again (on either instance)
        assertEquals(6, refused.retryAfterSeconds());
        clock.advance(Duration.ofSeconds(6));
        assertTrue(a.admit(counter, 100).admitted());
        assertEquals(Verdict.Result.RATE_LIMITED, b.admit(counter, 100).result());
    }

    @Test
    void twentyConcurrentRequestsOvershootByAtMostOneReservation() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        List<Instance> fleet = List.of(instance(clock), instance(clock), instance(clock));
        long limit = 100;
        long reservation = 30;
        TokenCounter counter = new TokenCounter("burst", "s:burst-" + UUID.randomUUID(), limit, 250, QuotaPeriod.DAILY);
        List<Future<Verdict>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(fleet.get(i % 3).budget().admit(counter, reservation));
        }
        await(Future.all(all));
        long admitted = all.stream().filter(f -> f.result().admitted()).count();
        assertTrue(admitted * reservation <= limit + reservation, admitted + " admitted");
        assertTrue(admitted >= limit / reservation, "the budget was used: " + admitted);
        assertEquals(
                20 - admitted,
                all.stream()
                        .filter(f -> f.result().result() == Verdict.Result.RATE_LIMITED)
                        .count());
    }

    @Test
    void aRequestLargerThanTheBucketWaitsForItToEmptyThenPassesAlone() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        Instance a = instance(clock);
        TokenCounter counter = rate(600);
        assertTrue(a.admit(counter, 60).admitted());
        Verdict big = a.admit(counter, 5000);
        assertEquals(Verdict.Result.RATE_LIMITED, big.result());
        assertEquals(6, big.retryAfterSeconds()); // 60 tokens leak at 10 per second
        clock.advance(Duration.ofSeconds(6));
        assertTrue(a.admit(counter, 5000).admitted());
        assertEquals(Verdict.Result.RATE_LIMITED, a.admit(counter, 1).result());
    }

    @Test
    void settlementReplacesTheReservationWithTheRealUsage() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        Instance a = instance(clock);
        TokenCounter counter =
                new TokenCounter("settle", "s:settle-" + UUID.randomUUID(), 1000, 10_000, QuotaPeriod.DAILY);
        Verdict admitted = a.admit(counter, 800);
        assertEquals(200, admitted.remainingTokens());
        assertEquals(9200, admitted.remainingQuotaTokens());
        // the answer used 50 of the 800 reserved: 750 come back
        a.budget()
                .reservation(new TokenBudget.Hold(counter, clock.instant(), 800, "redis"))
                .used(50);
        Verdict next = awaitSettled(a, counter, 10, 940);
        assertEquals(9940, next.remainingQuotaTokens());
        // an answer that used more than reserved is charged the difference
        a.budget()
                .reservation(new TokenBudget.Hold(counter, clock.instant(), 10, "redis"))
                .used(500);
        awaitSettled(a, counter, 0, 450);
        // unknown usage keeps the reservation
        a.budget()
                .reservation(new TokenBudget.Hold(counter, clock.instant(), 10, "redis"))
                .unknown();
        assertEquals(450, a.admit(counter, 0).remainingTokens());
    }

    @Test
    void aLateRefundNeverTakesBackTokensOtherRequestsPutIn() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        for (Instance a : List.of(
                instance(clock),
                instance(
                        "redis://127.0.0.1:" + LocalRedis.freePort(),
                        clock,
                        Map.of("aigate.token-limit.local-share", "1")))) { // Redis, then the local fallback
            TokenCounter counter = rate(1000);
            Instant t0 = clock.instant();
            Verdict first = a.admit(counter, 800);
            String store = first.store();
            assertTrue(first.admitted() && a.admit(counter, 100).admitted(), first.toString());
            clock.advance(Duration.ofSeconds(30)); // 500 drained: of the 900, 400 are left
            // the 800 request comes back unserved; at most the 300 left of its own hold may go, not B's 100
            a.budget()
                    .reservation(new TokenBudget.Hold(counter, t0, 800, store))
                    .release();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Verdict v;
            do {
                v = a.admit(counter, 0);
            } while (v.remainingTokens() != 900 && System.nanoTime() < deadline);
            assertEquals(900, v.remainingTokens(), store + ": the other request's 100 stay in the bucket");
            // and an admission cannot take tokens out with a negative amount
            assertEquals(900, a.admit(counter, -500).remainingTokens(), store);
            clock.advance(Duration.ofMinutes(5));
        }
    }

    @Test
    void onAnEventLoopASettlementRidesOnTheNextAdmissionOfItsCounter() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        Instance a = instance(clock);
        TokenCounter counter = new TokenCounter("ride", "s:ride-" + UUID.randomUUID(), 1000, 10_000, QuotaPeriod.DAILY);
        RedisAPI stats = RedisAPI.api(Redis.createClient(vertx, redis.url()));
        a.admit(rate(1000), 1); // the first call opens the event loop's connection: not counted
        long before = scriptCalls(stats);
        Instant t0 = clock.instant();
        Verdict carried = await(onEventLoop(() -> a.budget()
                .admit(counter, 600)
                .compose(first -> a.budget().admit(counter, 300).compose(second -> {
                    // the 600 comes back unserved; the next admission carries the refund, and decides after it
                    a.budget()
                            .reservation(new TokenBudget.Hold(counter, t0, 600, "redis"))
                            .release();
                    return a.budget().admit(counter, 500);
                }))));
        assertTrue(carried.admitted(), "the refund was applied before the decision: " + carried);
        assertEquals(200, carried.remainingTokens()); // 300 + 500 of 1000
        assertEquals(9200, carried.remainingQuotaTokens());
        assertEquals(3, scriptCalls(stats) - before, "three requests, three calls: the settlement cost none");

        // a settlement no admission comes for is sent on its own, soon
        await(onEventLoop(() -> {
            a.budget()
                    .reservation(new TokenBudget.Hold(counter, t0, 500, "redis"))
                    .used(100);
            return Future.succeededFuture();
        }));
        awaitSettled(a, counter, 0, 600);

        // an admission the budget refuses still lands what it carried
        Verdict refused = await(onEventLoop(() -> {
            a.budget()
                    .reservation(new TokenBudget.Hold(counter, t0, 10, "redis"))
                    .used(610); // 600 more than reserved: the bucket is full
            return a.budget().admit(counter, 50);
        }));
        assertEquals(Verdict.Result.RATE_LIMITED, refused.result());
        assertEquals(0, a.admit(counter, 0).remainingTokens());
    }

    @Test
    void aStoppingInstanceSendsTheSettlementsStillWaiting() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        // a settlement's own timer ten minutes away: only an admission or the stop can send it
        RedisTokenBudget budget = new RedisTokenBudget(Redis.createClient(vertx, redis.url()), 2000, clock, 600_000);
        TokenCounter counter = rate(1000);
        Instant t0 = clock.instant();
        await(onEventLoop(() -> budget.admit(counter, 800, t0).map(admitted -> {
            budget.settle(new TokenBudget.Hold(counter, t0, 800, "redis"), -700, t0);
            return admitted;
        })));
        assertEquals(200, await(budget.admit(counter, 0, t0)).remainingTokens(), "the settlement is still waiting");
        await(budget.sendAllWaiting());
        assertEquals(900, await(budget.admit(counter, 0, t0)).remainingTokens(), "the stop sent it");
    }

    private static <T> Future<T> onEventLoop(java.util.function.Supplier<Future<T>> work) {
        io.vertx.core.Promise<T> done = io.vertx.core.Promise.promise();
        vertx.getOrCreateContext().runOnContext(v -> work.get().onComplete(done));
        return done.future();
    }

    private static long scriptCalls(RedisAPI api) throws Exception {
        String stats = await(api.info(List.of("commandstats"))).toString();
        long calls = 0;
        for (String line : stats.split("\r?\n")) {
            if (line.startsWith("cmdstat_fcall:")) {
                calls += Long.parseLong(line.replaceAll(".*[:,]calls=(\\d+),.*", "$1"));
            }
        }
        return calls;
    }

    /** Settlements are fire-and-forget: wait until the counter shows one. */
    private static Verdict awaitSettled(Instance a, TokenCounter counter, long probe, long expectedRemaining)
            throws Exception {
        Await.until(
                "the settlement reached the counter",
                Duration.ofSeconds(5),
                () -> a.admit(counter, 0).remainingTokens() == expectedRemaining + probe);
        Verdict charged = a.admit(counter, probe);
        assertEquals(expectedRemaining, charged.remainingTokens());
        return charged;
    }

    @Test
    void quotaWindowsRollAtUtcBoundaries() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-30T23:59:58Z"));
        Instance a = instance(clock);
        TokenCounter monthly = quota(100, QuotaPeriod.MONTHLY);
        TokenCounter daily = quota(100, QuotaPeriod.DAILY);
        TokenCounter weekly = quota(100, QuotaPeriod.WEEKLY);
        TokenCounter hourly = quota(100, QuotaPeriod.HOURLY);
        for (TokenCounter c : List.of(monthly, daily, weekly, hourly)) {
            assertTrue(a.admit(c, 100).admitted());
            Verdict spent = a.admit(c, 1);
            assertEquals(
                    Verdict.Result.QUOTA_EXCEEDED, spent.result(), c.period().wire());
            assertEquals(0, spent.remainingQuotaTokens());
        }
        clock.set(Instant.parse("2026-11-30T23:59:59.999Z"));
        assertEquals(Verdict.Result.QUOTA_EXCEEDED, a.admit(monthly, 1).result());
        // 2026-12-01 is a Tuesday: a new hour, day and month, but the same ISO week
        clock.set(Instant.parse("2026-12-01T00:00:00Z"));
        assertTrue(a.admit(monthly, 1).admitted());
        assertTrue(a.admit(daily, 1).admitted());
        assertTrue(a.admit(hourly, 1).admitted());
        assertEquals(Verdict.Result.QUOTA_EXCEEDED, a.admit(weekly, 1).result());
        clock.set(Instant.parse("2026-12-06T23:59:59Z"));
        assertEquals(Verdict.Result.QUOTA_EXCEEDED, a.admit(weekly, 1).result());
        clock.set(Instant.parse("2026-12-07T00:00:00Z")); // Monday
        assertTrue(a.admit(weekly, 1).admitted());

        TokenCounter yearly = quota(10, QuotaPeriod.YEARLY);
        clock.set(Instant.parse("2026-12-31T23:59:59Z"));
        assertTrue(a.admit(yearly, 10).admitted());
        assertEquals(Verdict.Result.QUOTA_EXCEEDED, a.admit(yearly, 1).result());
        clock.set(Instant.parse("2027-01-01T00:00:00Z"));
        assertTrue(a.admit(yearly, 1).admitted());
    }

    @Test
    void windowsAreUtcCalendarUnits() {
        Instant t = Instant.parse("2026-11-28T17:42:13Z"); // a Saturday
        assertEquals(Instant.parse("2026-11-28T17:00:00Z"), QuotaPeriod.HOURLY.windowStart(t));
        assertEquals(Instant.parse("2026-11-29T00:00:00Z"), QuotaPeriod.DAILY.windowEnd(t));
        assertEquals(Instant.parse("2026-11-23T00:00:00Z"), QuotaPeriod.WEEKLY.windowStart(t));
        assertEquals(Instant.parse("2026-11-30T00:00:00Z"), QuotaPeriod.WEEKLY.windowEnd(t));
        assertEquals(Instant.parse("2026-12-01T00:00:00Z"), QuotaPeriod.MONTHLY.windowEnd(t));
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), QuotaPeriod.YEARLY.windowEnd(t));
        assertEquals(
                Instant.parse("2028-03-01T00:00:00Z"),
                QuotaPeriod.MONTHLY.windowEnd(Instant.parse("2028-02-29T23:59:59Z")));
    }

    @Test
    void unreachableRedisFallsBackToALocalShareVisibly() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        int deadPort = LocalRedis.freePort(); // nothing listens here
        try (LogCapture log = LogCapture.start()) {
            Instance a =
                    instance("redis://127.0.0.1:" + deadPort, clock, Map.of("aigate.token-limit.local-share", "0.25"));
            TokenCounter counter = rate(400);
            // a quarter of 400 is 100: ten reservations of 10, the eleventh waits
            for (int i = 0; i < 10; i++) {
                Verdict v = a.admit(counter, 10);
                assertEquals("local", v.store());
                assertTrue(v.admitted(), "reservation " + i);
            }
            Verdict over = a.admit(counter, 10);
            assertEquals(Verdict.Result.RATE_LIMITED, over.result());
            assertEquals("local", over.store());
            assertEquals(0.0, a.storeUp());
            // limits far beyond any real traffic must not overflow the local arithmetic into a refusal
            Verdict huge = a.admit(rate(1_000_000_000_000L), 212);
            assertTrue(huge.admitted(), huge.toString());
            assertTrue(a.registry()
                            .get("aigate.token.limit.requests")
                            .tag("store", "local")
                            .tag("result", "admitted")
                            .counter()
                            .count()
                    >= 10);
            assertEquals(
                    1,
                    log.lines().stream()
                            .filter(l -> l.contains("Redis unreachable"))
                            .count(),
                    "one line for the outage, not one per request: " + log.lines());
        }
    }

    @Test
    void theFallbackCanAlsoAllowOrDeny() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        String dead = "redis://127.0.0.1:" + LocalRedis.freePort();
        Verdict allowed = instance(dead, clock, Map.of("aigate.token-limit.on-redis-unavailable", "allow"))
                .admit(rate(1), 1000);
        assertTrue(allowed.admitted());
        assertEquals("none", allowed.store());
        Verdict denied = instance(dead, clock, Map.of("aigate.token-limit.on-redis-unavailable", "deny"))
                .admit(rate(1_000_000), 1);
        assertEquals(Verdict.Result.UNAVAILABLE, denied.result());
        assertTrue(denied.retryAfterSeconds() >= 1);
    }

    @Test
    void redisComingBackMakesBudgetsFleetWideAgain() throws Exception {
        TestClock clock = TestClock.at(Instant.parse("2026-11-28T12:00:00Z"));
        int port = LocalRedis.freePort();
        Instance a = instance(
                "redis://127.0.0.1:" + port, clock, Map.of("aigate.token-limit.redis-retry-interval", "200ms"));
        TokenCounter counter = rate(1000);
        assertEquals("local", a.admit(counter, 10).store());
        try (LocalRedis late = new LocalRedis(port).start()) {
            Await.until(
                    "the budget is fleet-wide again",
                    Duration.ofSeconds(10),
                    () -> "redis".equals(a.admit(counter, 10).store()));
            assertEquals(1.0, a.storeUp());
            assertEquals(
                    "1",
                    await(RedisAPI.api(Redis.createClient(vertx, late.url()))
                                    .exists(List.of(
                                            io.aigate.redis.RedisSchema.limitRate(counter.tag(), late.budgetSecret()))))
                            .toString());
        }
    }
}
