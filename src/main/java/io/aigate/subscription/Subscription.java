package io.aigate.subscription;

import io.aigate.pipeline.QuotaPeriod;
import io.aigate.pipeline.TokenLimits;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A subscription as stored in Redis (one hash, see {@link RedisSchema}). Only {@link State#ACTIVE} grants access, and
 * not past {@link #expiresAt()}. Key material never appears here: only the SHA-256 of each key.
 */
public record Subscription(String id, String name, State state, Scope scope, Set<String> allowedClientApps,
                           Instant expiresAt, Instant createdAt, Instant updatedAt, String primaryKeyHash,
                           String secondaryKeyHash, Instant primaryRotatedAt, Instant secondaryRotatedAt,
                           TokenLimits limits) {

    public Subscription {
        limits = limits == null ? TokenLimits.NONE : limits;
    }

    /** APIM's subscription states. */
    public enum State {
        ACTIVE, SUSPENDED, CANCELLED, EXPIRED, SUBMITTED, REJECTED;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static State parse(String value) {
            return State.valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /** Which routes a key opens: all, a list of deployments, a list of routes, or a named product. */
    public record Scope(Kind kind, Set<String> names) {

        public enum Kind { ALL, DEPLOYMENTS, ROUTES, PRODUCT }

        public static final Scope ALL = new Scope(Kind.ALL, Set.of());

        /** {@code all}, {@code deployments:a,b}, {@code routes:a,b} or {@code product:name}. */
        public static Scope parse(String text) {
            if (text == null || text.isBlank() || text.equals("all")) {
                return ALL;
            }
            int colon = text.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("scope must be all, deployments:a,b, routes:a,b or product:name");
            }
            Kind kind = switch (text.substring(0, colon)) {
                case "deployments" -> Kind.DEPLOYMENTS;
                case "routes" -> Kind.ROUTES;
                case "product" -> Kind.PRODUCT;
                default -> throw new IllegalArgumentException(
                        "scope must be all, deployments:a,b, routes:a,b or product:name");
            };
            Set<String> names = Arrays.stream(text.substring(colon + 1).split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
            if (names.isEmpty() || (kind == Kind.PRODUCT && names.size() != 1)) {
                throw new IllegalArgumentException("scope " + text.substring(0, colon) + " needs "
                        + (kind == Kind.PRODUCT ? "one product name" : "at least one name"));
            }
            return new Scope(kind, names);
        }

        public String wire() {
            return kind == Kind.ALL ? "all" : kind.name().toLowerCase(Locale.ROOT) + ":"
                    + names.stream().sorted().collect(Collectors.joining(","));
        }
    }

    /** Active and not expired at {@code now}. */
    public boolean grantsAccessAt(Instant now) {
        return state == State.ACTIVE && (expiresAt == null || now.isBefore(expiresAt));
    }

    /** The state a person should see: an active subscription past its expiry shows as expired. */
    public State effectiveState(Instant now) {
        return state == State.ACTIVE && expiresAt != null && !now.isBefore(expiresAt) ? State.EXPIRED : state;
    }

    public Map<String, String> toHash() {
        Map<String, String> hash = new LinkedHashMap<>();
        hash.put("id", id);
        hash.put("name", name);
        hash.put("state", state.wire());
        hash.put("scope", scope.wire());
        hash.put("allowed_client_apps", String.join(",", allowedClientApps));
        hash.put("expires_at", expiresAt == null ? "" : expiresAt.toString());
        hash.put("created_at", createdAt.toString());
        hash.put("updated_at", updatedAt.toString());
        hash.put("primary_key_sha256", primaryKeyHash == null ? "" : primaryKeyHash);
        hash.put("secondary_key_sha256", secondaryKeyHash == null ? "" : secondaryKeyHash);
        hash.put("primary_rotated_at", primaryRotatedAt.toString());
        hash.put("secondary_rotated_at", secondaryRotatedAt.toString());
        hash.put("tokens_per_minute", limits.tokensPerMinute() == null ? "" : limits.tokensPerMinute().toString());
        hash.put("token_quota", limits.tokenQuota() == null ? "" : limits.tokenQuota().toString());
        hash.put("token_quota_period", limits.tokenQuotaPeriod() == null ? "" : limits.tokenQuotaPeriod().wire());
        return hash;
    }

    public static Subscription fromHash(Map<String, String> hash) {
        return new Subscription(hash.get("id"), hash.getOrDefault("name", ""), State.parse(hash.get("state")),
                Scope.parse(hash.get("scope")), csv(hash.get("allowed_client_apps")), instant(hash.get("expires_at")),
                instant(hash.get("created_at")), instant(hash.get("updated_at")), blankToNull(hash.get("primary_key_sha256")),
                blankToNull(hash.get("secondary_key_sha256")), instant(hash.get("primary_rotated_at")),
                instant(hash.get("secondary_rotated_at")), limits(hash));
    }

    /** Hashes written before limits existed simply have none. */
    private static TokenLimits limits(Map<String, String> hash) {
        String period = blankToNull(hash.get("token_quota_period"));
        return new TokenLimits(number(hash.get("tokens_per_minute")), number(hash.get("token_quota")),
                period == null ? null : QuotaPeriod.parse(period));
    }

    private static Long number(String value) {
        return value == null || value.isBlank() ? null : Long.valueOf(value.trim());
    }

    private static Set<String> csv(String value) {
        if (value == null || value.isBlank()) {
            return Set.of();
        }
        return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static Instant instant(String value) {
        return value == null || value.isBlank() ? null : Instant.parse(value);
    }

    public Subscription with(State newState, Instant now) {
        return new Subscription(id, name, newState, scope, allowedClientApps, expiresAt, createdAt, now,
                primaryKeyHash, secondaryKeyHash, primaryRotatedAt, secondaryRotatedAt, limits);
    }

    public Subscription withLimits(TokenLimits newLimits, Instant now) {
        return new Subscription(id, name, state, scope, allowedClientApps, expiresAt, createdAt, now,
                primaryKeyHash, secondaryKeyHash, primaryRotatedAt, secondaryRotatedAt, newLimits);
    }

    public Subscription withKey(KeySlot slot, String keyHash, Instant now) {
        return slot == KeySlot.PRIMARY
                ? new Subscription(id, name, state, scope, allowedClientApps, expiresAt, createdAt, now, keyHash,
                secondaryKeyHash, now, secondaryRotatedAt, limits)
                : new Subscription(id, name, state, scope, allowedClientApps, expiresAt, createdAt, now,
                primaryKeyHash, keyHash, primaryRotatedAt, now, limits);
    }

    /** Which of the two keys. */
    public enum KeySlot {
        PRIMARY, SECONDARY;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
