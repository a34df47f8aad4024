package io.aigate.subscription;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import java.time.Duration;

/**
 * What Redis last said about a key hash, bounded in size. A known key is kept for the outage grace (beyond it the entry
 * is useless, Redis must confirm again); an unknown one for the negative TTL, so random keys cannot hammer Redis.
 * Maintenance runs on the calling thread: nothing is handed to a shared pool.
 */
final class KeyCache {

    sealed interface Entry permits Known, Unknown {
        long verifiedAtMillis();
    }

    record Known(SubscriptionStore.Found found, long verifiedAtMillis) implements Entry {
    }

    record Unknown(long verifiedAtMillis) implements Entry {
    }

    private final Cache<String, Entry> cache;

    KeyCache(long maxEntries, Duration knownFor, Duration unknownFor) {
        long known = knownFor.toNanos();
        long unknown = unknownFor.toNanos();
        this.cache = Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .executor(Runnable::run)
                .expireAfter(new Expiry<String, Entry>() {
                    @Override
                    public long expireAfterCreate(String key, Entry value, long currentTime) {
                        return value instanceof Known ? known : unknown;
                    }

                    @Override
                    public long expireAfterUpdate(String key, Entry value, long currentTime, long currentDuration) {
                        return value instanceof Known ? known : unknown;
                    }

                    @Override
                    public long expireAfterRead(String key, Entry value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    Entry get(String keyHash) {
        return cache.getIfPresent(keyHash);
    }

    void put(String keyHash, Entry entry) {
        cache.put(keyHash, entry);
    }

    /** Drops every key of one subscription (both of them, whichever were cached). */
    void invalidateSubscription(String id) {
        cache.asMap().values().removeIf(e -> e instanceof Known k && k.found().subscription().id().equals(id));
    }

    void clear() {
        cache.invalidateAll();
    }

    long size() {
        return cache.estimatedSize();
    }
}
