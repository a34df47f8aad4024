package io.aigate.subscription;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * What Redis last said about a key hash, bounded in size. A known key is kept for the outage grace (beyond it the entry
 * is useless, Redis must confirm again); an unknown one for the negative TTL, so random keys cannot hammer Redis.
 * The two live in separate caches of the same bound: key hashes anyone can invent must never evict the keys of real
 * subscribers, whose entries are what carries them through a Redis outage. Maintenance runs on the calling thread:
 * nothing is handed to a shared pool.
 */
final class KeyCache {

    sealed interface Entry permits Known, Unknown {
        long verifiedAtMillis();
    }

    record Known(SubscriptionStore.Found found, long verifiedAtMillis) implements Entry {}

    record Unknown(long verifiedAtMillis) implements Entry {}

    private final Cache<String, Known> known;
    private final Cache<String, Unknown> unknown;

    KeyCache(long maxEntries, Duration knownFor, Duration unknownFor) {
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
            unknown.invalidate(keyHash);
            known.put(keyHash, k);
        } else {
            known.invalidate(keyHash);
            unknown.put(keyHash, (Unknown) entry);
        }
    }

    void remove(String keyHash) {
        known.invalidate(keyHash);
        unknown.invalidate(keyHash);
    }

    /** Drops every key of one subscription (both of them, whichever were cached). */
    void invalidateSubscription(String id) {
        known.asMap().values().removeIf(k -> k.found().subscription().id().equals(id));
    }

    void clear() {
        known.invalidateAll();
        unknown.invalidateAll();
    }

    /** Keys of real subscriptions held; unknown ones are not counted (they say nothing about who is served). */
    long size() {
        return known.estimatedSize();
    }
}
