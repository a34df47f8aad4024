package io.aigate.tokens;

import io.aigate.redis.RedisFunctions;
import io.aigate.redis.RedisSchema;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The fleet-wide budget: one Redis function ({@link RedisFunctions#TOKEN_LIMIT}, installed by the key administrators)
 * checks and moves a counter's rate bucket and quota window atomically, so every aigate instance spends from the same
 * tokens and concurrent requests cannot slip through between a read and a write. The function keeps the time, the
 * key names and the bounds itself: what is sent here is what it checks, never what it believes.
 *
 * <p>A limited request costs one FCALL. Its settlement (the real usage replacing the reservation) waits on its event
 * loop for the next admission of the same counter and window, which carries it into Redis; a counter that stays quiet
 * has its settlements sent together after {@link #SETTLE_WITHIN_MILLIS}. The script applies them before it decides,
 * each on its own hold, so an admission never sees a budget older than the settlements it carries.
 */
public final class RedisTokenBudget {

    /** The longest a settlement waits for an admission to carry it. */
    static final long SETTLE_WITHIN_MILLIS = 50;
    /** The most settlements the function takes in one call: a busier counter sends a full group at once. */
    static final int MAX_CARRIED = 512;

    private final EventLoopRedis redis;
    private final Clock clock;
    private final long settleWithinMillis;
    /**
     * Settlements not yet in Redis, per event loop (only that loop's requests add to or take from its own), by quota
     * key: it names the counter and the window, as the rate key names the counter.
     */
    private final ThreadLocal<Map<String, Waiting>> waiting = ThreadLocal.withInitial(this::newLoop);
    /** Every event loop's waiting settlements, so that an instance that stops can still send them. */
    private final Queue<Loop> loops = new ConcurrentLinkedQueue<>();

    private record Loop(Context context, Map<String, Waiting> waiting) {}

    /** The settlements of one counter in one quota window, and who waits to hear they landed. */
    private static final class Waiting {
        final TokenCounter counter;
        final Instant window;
        final List<String> keys;
        final List<String> settlements = new ArrayList<>();
        final Promise<Void> landed = Promise.promise();

        Waiting(TokenCounter counter, Instant window, List<String> keys) {
            this.counter = counter;
            this.window = window;
            this.keys = keys;
        }

        void add(TokenBudget.Hold hold, long correction) {
            settlements.add(Long.toString(correction));
            settlements.add(Long.toString(hold.admittedAt().toEpochMilli()));
            settlements.add(Long.toString(hold.tokens()));
        }
    }

    /** @param clock what settlements sent on their own are dated with */
    public RedisTokenBudget(Redis redis, long timeoutMillis, Clock clock) {
        this(redis, timeoutMillis, clock, SETTLE_WITHIN_MILLIS);
    }

    RedisTokenBudget(Redis redis, long timeoutMillis, Clock clock, long settleWithinMillis) {
        this.redis = new EventLoopRedis(redis, timeoutMillis);
        this.clock = clock;
        this.settleWithinMillis = settleWithinMillis;
    }

    private Map<String, Waiting> newLoop() {
        Map<String, Waiting> here = new LinkedHashMap<>();
        loops.add(new Loop(Vertx.currentContext(), here));
        return here;
    }

    public Future<Verdict> admit(TokenCounter counter, long tokens, Instant now) {
        List<String> keys = keys(counter, now);
        Waiting carried = onEventLoop() ? waiting.get().remove(keys.get(1)) : null;
        Future<Response> answer = run("admit", counter, keys, now, tokens, now, carried);
        if (carried != null) {
            answer.<Void>mapEmpty().onComplete(carried.landed);
        }
        return answer.map(r -> new Verdict(
                switch (r.get(0).toInteger()) {
                    case 0 -> Verdict.Result.ADMITTED;
                    case 1 -> Verdict.Result.RATE_LIMITED;
                    default -> Verdict.Result.QUOTA_EXCEEDED;
                },
                r.get(1).toLong(),
                counter.tokensPerMinute() > 0 ? r.get(2).toLong() : -1,
                counter.tokenQuota() > 0 ? r.get(3).toLong() : -1,
                "redis",
                now));
    }

    /**
     * Moves the counter by {@code correction} (negative gives tokens back, never more than is left of the hold) in the
     * window the request was admitted in: with the next admission of that counter on this event loop, or within
     * {@link #SETTLE_WITHIN_MILLIS}. The future completes when Redis has it.
     */
    public Future<Void> settle(TokenBudget.Hold hold, long correction, Instant now) {
        List<String> keys = keys(hold.counter(), hold.admittedAt());
        if (!onEventLoop()) {
            Waiting alone = new Waiting(hold.counter(), hold.admittedAt(), keys);
            alone.add(hold, correction);
            return send("settle", alone, now);
        }
        Map<String, Waiting> here = waiting.get();
        if (here.isEmpty()) {
            Vertx.currentContext().owner().setTimer(settleWithinMillis, id -> sendWaiting(here));
        }
        Waiting group = here.computeIfAbsent(keys.get(1), k -> new Waiting(hold.counter(), hold.admittedAt(), keys));
        group.add(hold, correction);
        if (group.settlements.size() >= 3 * MAX_CARRIED) {
            here.remove(keys.get(1));
            return send("settle", group, now);
        }
        return group.landed.future();
    }

    /** What no admission carried: one call per counter and window. */
    private Future<Void> sendWaiting(Map<String, Waiting> here) {
        List<Future<Void>> sent = new ArrayList<>(here.size());
        List<Waiting> all = new ArrayList<>(here.values());
        here.clear();
        Instant now = clock.instant();
        for (Waiting group : all) {
            sent.add(send("settle", group, now));
        }
        return Future.join(sent).mapEmpty();
    }

    /** Sends a group on its own; it has landed when the future completes. */
    private Future<Void> send(String op, Waiting group, Instant now) {
        run(op, group.counter, group.keys, group.window, 0, now, group)
                .<Void>mapEmpty()
                .onComplete(group.landed);
        return group.landed.future();
    }

    /** Sends every settlement still waiting, each from its own event loop: for an instance that stops. */
    public Future<Void> sendAllWaiting() {
        List<Future<Void>> sent = new ArrayList<>();
        for (Loop loop : loops) {
            Promise<Void> done = Promise.promise();
            loop.context().runOnContext(v -> sendWaiting(loop.waiting()).onComplete(done));
            sent.add(done.future());
        }
        return Future.join(sent).mapEmpty();
    }

    private static boolean onEventLoop() {
        Context context = Vertx.currentContext();
        return context != null && context.isEventLoopContext();
    }

    /**
     * The counter's key the function is called on, then the quota window's (which only tells settlements of one
     * window apart here: the function names every key it writes itself).
     */
    private static List<String> keys(TokenCounter counter, Instant window) {
        return List.of(RedisSchema.limit(counter.tag()), counter.quotaKey(window));
    }

    private Future<Response> run(
            String op,
            TokenCounter counter,
            List<String> keys,
            Instant window,
            long tokens,
            Instant now,
            Waiting carried) {
        List<String> args = new ArrayList<>(7 + (carried == null ? 0 : carried.settlements.size()));
        args.add(op);
        args.add(Long.toString(now.toEpochMilli()));
        args.add(Long.toString(counter.tokensPerMinute()));
        args.add(Long.toString(tokens));
        args.add(Long.toString(counter.tokenQuota()));
        args.add(counter.tokenQuota() > 0 ? counter.period().wire() : "none");
        args.add(Long.toString(
                counter.tokenQuota() > 0 ? counter.period().windowStart(window).getEpochSecond() : 0));
        if (carried != null) {
            args.addAll(carried.settlements);
        }
        return redis.send(api -> RedisFunctions.call(api, RedisFunctions.TOKEN_LIMIT, keys.subList(0, 1), args));
    }
}
