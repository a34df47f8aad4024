package io.aigate.subscription;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What Redis last said about a key hash, bounded in size. A known key is kept for the outage grace (beyond it the entry
 * is useless, Redis must confirm again); an unknown one for the negative TTL, so random keys cannot hammer Redis.
 * The two live in separate caches of the same bound: key hashes anyone can invent must never evict the keys of real
 * subscribers, whose entries are what carries them through a Redis outage. Maintenance runs on the calling thread:
 * nothing is handed to a shared pool.
 *
 * <p>An invalidation is read on the one subscribed connection, so it must cost the same however full the cache is: a
 * scan of every entry per message let a flood of invalidations outrun the reader until Redis dropped it for a full
 * output buffer. Known keys are indexed by subscription id; the index may still name a hash the cache has evicted
 * (pruned when it outgrows the cache), never miss one it holds.
 */
final class KeyCache {

    sealed interface Entry permits Known, Unknown {
        long verifiedAtMillis();
    }

    record Known(SubscriptionStore.Found found, long verifiedAtMillis) implements Entry {}

    record Unknown(long verifiedAtMillis) implements Entry {}

    private final Cache<String, Known> known;
    private final Cache<String, Unknown> unknown;
    private final long maxEntries;
    /** Subscription id to the key hashes put for it; guarded by {@code this}, as are puts of known keys. */
    private final Map<String, Set<String>> bySubscription = new HashMap<>();

    private long indexed;

    KeyCache(long maxEntries, Duration knownFor, Duration unknownFor) {
        this.maxEntries = maxEntries;
        this.known = Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .executor(Runnable::run)
                .expireAfterWrite(knownFor)
                .build();
        this.unknown = Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .executor(Runnable::run)
                .expireAfterWrite(unknownFor)
                .build();
    }

    Entry get(String keyHash) {
        Known hit = known.getIfPresent(keyHash);
        return hit != null ? hit : unknown.getIfPresent(keyHash);
    }

    void put(String keyHash, Entry entry) {
        if (entry instanceof Known k) {
            synchronized (this) {
                index(k.found().subscription().id(), keyHash);
                unknown.invalidate(keyHash);
                known.put(keyHash, k);
            }
        } else {
            known.invalidate(keyHash);
            unknown.put(keyHash, (Unknown) entry);
        }
    }

    void remove(String keyHash) {
        known.invalidate(keyHash);
        unknown.invalidate(keyHash);
    }

    /** Drops every key of one subscription (both of them, whichever were cached): two lookups, never a scan. */
    synchronized void invalidateSubscription(String id) {
        Set<String> hashes = bySubscription.remove(id);
        if (hashes != null) {
            indexed -= hashes.size();
            known.invalidateAll(hashes);
        }
    }

    private void index(String id, String keyHash) {
        if (indexed > 2 * maxEntries + 64) {
            // evicted keys left their hashes behind: start again from what the cache holds, once per so many puts
            bySubscription.clear();
            indexed = 0;
            known.asMap().forEach((hash, k) -> add(k.found().subscription().id(), hash));
        }
        add(id, keyHash);
    }

    private void add(String id, String keyHash) {
        if (bySubscription.computeIfAbsent(id, i -> new HashSet<>(2)).add(keyHash)) {
            indexed++;
        }
    }

    /** Keys of real subscriptions held; unknown ones are not counted (they say nothing about who is served). */
    long size() {
        return known.estimatedSize();
    }
}
