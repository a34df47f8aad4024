package io.aigate.tokens;

import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Errors;
import io.aigate.redis.Authenticated;
import io.aigate.redis.RedisFunctions;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Where token budgets are kept: in Redis, shared by the fleet; while Redis cannot be reached, the configured fallback
 * decides (a local limiter at a share of each limit by default) — never silently: the verdict names its store (the
 * step puts it in a response header), the store-up gauge drops to 0, and one log line marks the change each way.
 * After a failure Redis is left alone for {@code redis-retry-interval}, so an outage does not add its timeout to
 * every request.
 */
@Singleton
public class TokenBudget {

    private static final Logger LOG = Logger.getLogger(TokenBudget.class);

    /** Tokens held at admission, to be reconciled once the request's fate is known. */
    public record Hold(TokenCounter counter, Instant admittedAt, long tokens, String store) {}

    /** The most tokens one answer is believed to have used: no Azure answer reports more, whatever it says. */
    static final long MAX_USAGE = Integer.MAX_VALUE;

    private final RedisTokenBudget redis;
    private final LocalTokenBudget local;
    private final AigateConfig.RedisUnavailable fallback;
    private final long retryIntervalNanos;
    private final TokenMetrics.Limit metrics;
    private final Clock clock;
    private volatile long redisRetryAt;
    /** Flipped by compare-and-set, so an outage seen by many event loops at once is logged once. */
    private final AtomicBoolean redisDown = new AtomicBoolean();

    /** @param clock quota windows roll on it */
    @Inject
    public TokenBudget(AigateConfig config, @Authenticated Redis redis, TokenMetrics.Limit metrics, Clock clock) {
        AigateConfig.TokenLimit limit = config.tokenLimit();
        this.redis = new RedisTokenBudget(
                redis, config.subscriptionKey().redisTimeout().toMillis(), clock);
        this.local = new LocalTokenBudget(limit.localShare());
        this.fallback = limit.onRedisUnavailable();
        this.retryIntervalNanos = limit.redisRetryInterval().toNanos();
        this.metrics = metrics;
        this.clock = clock;
    }

    public Future<Verdict> admit(TokenCounter counter, long requested) {
        long tokens = Math.max(0, requested);
        Instant now = clock.instant();
        if (redisDown.get() && System.nanoTime() - redisRetryAt < 0) {
            return Future.succeededFuture(decided(counter, fallback(counter, tokens, now)));
        }
        return redis.admit(counter, tokens, now)
                .map(verdict -> {
                    reachable();
                    return decided(counter, verdict);
                })
                .recover(err -> {
                    unreachable(err);
                    return Future.succeededFuture(decided(counter, fallback(counter, tokens, now)));
                });
    }

    /**
     * The hold as the request sees it, by the rule "never refund what the backend may have served". Every way out of
     * a request may settle it; only the first settlement counts (all run on the request's event loop).
     */
    public io.aigate.tokens.Reservation reservation(Hold hold) {
        return new io.aigate.tokens.Reservation() {
            private boolean settled;

            private boolean first() {
                boolean was = settled;
                settled = true;
                return !was;
            }

            @Override
            public void used(long tokens) {
                if (first()) {
                    settle(hold, Math.min(MAX_USAGE, Math.max(0, tokens)));
                }
            }

            @Override
            public void atLeast(long tokens) {
                if (first() && tokens > hold.tokens()) {
                    settle(hold, Math.min(MAX_USAGE, tokens));
                }
            }

            @Override
            public void unknown() {
                first(); // the reservation stands
            }

            @Override
            public void release() {
                if (first()) {
                    settle(hold, 0);
                }
            }
        };
    }

    /**
     * Corrects a hold with what the request used. A correction downwards gives back at most what is left of this
     * hold in the rate bucket (it drains from the moment it was taken), so a late refund never takes back tokens
     * that other requests put in. Settlements never hold a request up; one Redis cannot take is counted and logged,
     * and the bucket drains it anyway within a minute.
     */
    void settle(Hold hold, long used) {
        long correction = used - hold.tokens();
        if (correction == 0) {
            return;
        }
        Instant now = clock.instant();
        switch (hold.store()) {
            case "redis" ->
                redis.settle(hold, correction, now).onFailure(err -> {
                    metrics.settleFailed();
                    LOG.debugf(
                            "token reservation of %s not settled: %s",
                            hold.counter().label(), err.getClass().getSimpleName());
                });
            case "local" -> local.settle(hold, correction, now);
            default -> {
                // admitted without any budget (allow): nothing to correct
            }
        }
    }

    /** Settlements still waiting for an admission to carry them go now: a stopping pod would otherwise drop them. */
    void stop(@Observes ShutdownEvent event) {
        try {
            redis.sendAllWaiting().toCompletionStage().toCompletableFuture().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("token limits: settlements not sent at shutdown (%s)", Errors.describe(e));
        }
    }

    private Verdict decided(TokenCounter counter, Verdict verdict) {
        metrics.decision(verdict);
        if (verdict.admitted()) {
            metrics.headroom(counter, verdict);
        }
        return verdict;
    }

    private Verdict fallback(TokenCounter counter, long tokens, Instant now) {
        return switch (fallback) {
            case LOCAL -> local.admit(counter, tokens, now);
            case ALLOW -> new Verdict(Verdict.Result.ADMITTED, 0, -1, -1, "none", now);
            case DENY ->
                new Verdict(
                        Verdict.Result.UNAVAILABLE,
                        Math.max(1, retryIntervalNanos / 1_000_000_000L),
                        -1,
                        -1,
                        "none",
                        now);
        };
    }

    private void reachable() {
        if (redisDown.get() && redisDown.compareAndSet(true, false)) {
            metrics.storeUp(true);
            LOG.info("token limits: Redis reachable again; budgets are fleet-wide again");
        }
    }

    private void unreachable(Throwable err) {
        redisRetryAt = System.nanoTime() + retryIntervalNanos;
        if (redisDown.compareAndSet(false, true)) {
            metrics.storeUp(false);
            LOG.warnf(
                    "token limits: Redis unreachable (%s); %s until it answers again",
                    // a library not installed is no outage: the sentence says what the administrators must run
                    err instanceof RedisFunctions.NotInstalled
                            ? err.getMessage()
                            : err.getClass().getSimpleName(),
                    switch (fallback) {
                        case LOCAL -> "each instance enforces its local share of every limit";
                        case ALLOW -> "requests pass without a token limit";
                        case DENY -> "requests that need a token limit are refused";
                    });
        }
    }
}
