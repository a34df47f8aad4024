package io.aigate.cli;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionKeys;
import io.aigate.subscription.SubscriptionStore;
import io.vertx.core.Future;

/**
 * Issues subscription keys: a fresh random key, linked in Redis to its subscription and slot. The key itself exists
 * only in the {@link Issued} value handed back (to be printed once); Redis keeps its SHA-256.
 */
final class KeyIssuer {

    /** A key just issued, and the hash Redis knows it by. */
    record Issued(String key, String hash) {}

    private KeyIssuer() {}

    /** A new key, not linked yet (its subscription names the hash first, then {@link #link} opens it). */
    static Issued fresh() {
        String key = SubscriptionKeys.generate();
        return new Issued(key, SubscriptionKeys.hash(key));
    }

    /**
     * Links a fresh key to the subscription's slot. {@code NX}: a hash someone holds is never taken over; on that
     * (2^-256) chance another key is tried.
     */
    static Future<Issued> link(SubscriptionStore store, String id, Subscription.KeySlot slot) {
        return link(store, id, slot, 3);
    }

    private static Future<Issued> link(SubscriptionStore store, String id, Subscription.KeySlot slot, int attempts) {
        Issued issued = fresh();
        return store.link(issued.hash(), id, slot)
                .compose(linked -> linked
                        ? Future.succeededFuture(issued)
                        : attempts > 1
                                ? link(store, id, slot, attempts - 1)
                                : Future.failedFuture(
                                        new KeysCli.Failure(ExitCode.UNREACHABLE, "could not store a new key")));
    }
}
