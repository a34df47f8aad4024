package io.aigate.subscription;

import io.aigate.config.QuotaPeriod;
import io.aigate.redis.RedisSchema;
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
public record Subscription(
        String id,
        String name,
        State state,
        Scope scope,
        Set<String> allowedClientApps,
        Instant expiresAt,
        Instant createdAt,
        Instant updatedAt,
        String primaryKeyHash,
        String secondaryKeyHash,
        Instant primaryRotatedAt,
        Instant secondaryRotatedAt,
        TokenLimits limits) {

    public Subscription {
        limits = limits == null ? TokenLimits.NONE : limits;
        allowedClientApps = Set.copyOf(allowedClientApps);
    }

    /** APIM's subscription states. */
    public enum State {
        ACTIVE,
        SUSPENDED,
        CANCELLED,
        EXPIRED,
        SUBMITTED,
        REJECTED;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        static State parse(String value) {
            return State.valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /** Which routes a key opens: all, a list of deployments, a list of routes, or a named product. */
    public record Scope(Kind kind, Set<String> names) {

        public Scope {
            names = Set.copyOf(names);
        }

        public enum Kind {
            ALL,
            DEPLOYMENTS,
            ROUTES,
            PRODUCT
        }

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
                default ->
                    throw new IllegalArgumentException(
                            "scope must be all, deployments:a,b, routes:a,b or product:name");
            };
            Set<String> names = Arrays.stream(text.substring(colon + 1).split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .collect(Collectors.toUnmodifiableSet());
            if (names.isEmpty() || (kind == Kind.PRODUCT && names.size() != 1)) {
                throw new IllegalArgumentException("scope " + text.substring(0, colon) + " needs "
                        + (kind == Kind.PRODUCT ? "one product name" : "at least one name"));
            }
            return new Scope(kind, names);
        }

        public String wire() {
            return kind == Kind.ALL
                    ? "all"
                    : kind.name().toLowerCase(Locale.ROOT) + ":"
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

    /** The hash field of the state; a guard of {@code "!cancelled"} on it keeps a revoked subscription revoked. */
    public static final String STATE = "state";

    public static final String NOT_CANCELLED = "!" + "cancelled";

    /** The hash field that holds the SHA-256 of one key. */
    public static String keyField(KeySlot slot) {
        return slot.wire() + "_key_sha256";
    }

    /** The fields a state change writes, and nothing else. */
    public static Map<String, String> stateChange(State newState, Instant now) {
        return Map.of(STATE, newState.wire(), "updated_at", now.toString());
    }

    /** The fields a rotation of one key writes; the other key's fields are not touched. */
    public static Map<String, String> keyChange(KeySlot slot, String keyHash, Instant now) {
        return Map.of(
                keyField(slot), keyHash, slot.wire() + "_rotated_at", now.toString(), "updated_at", now.toString());
    }

    /** The limit fields to write: those given (null values of {@code limits} clear them), and the time. */
    public static Map<String, String> limitsChange(
            TokenLimits limits, boolean rate, boolean quota, boolean period, Instant now) {
        Map<String, String> fields = new LinkedHashMap<>();
        Map<String, String> all = limitFields(limits);
        if (rate) {
            fields.put("tokens_per_minute", all.get("tokens_per_minute"));
        }
        if (quota) {
            fields.put("token_quota", all.get("token_quota"));
        }
        if (period) {
            fields.put("token_quota_period", all.get("token_quota_period"));
        }
        fields.put("updated_at", now.toString());
        return fields;
    }

    private static Map<String, String> limitFields(TokenLimits limits) {
        Map<String, String> hash = new LinkedHashMap<>();
        hash.put(
                "tokens_per_minute",
                limits.tokensPerMinute() == null ? "" : limits.tokensPerMinute().toString());
        hash.put(
                "token_quota",
                limits.tokenQuota() == null ? "" : limits.tokenQuota().toString());
        hash.put(
                "token_quota_period",
                limits.tokenQuotaPeriod() == null
                        ? ""
                        : limits.tokenQuotaPeriod().wire());
        return hash;
    }

    public Map<String, String> toHash() {
        Map<String, String> hash = new LinkedHashMap<>();
        hash.put("id", id);
        hash.put("name", name);
        hash.put(STATE, state.wire());
        hash.put("scope", scope.wire());
        hash.put("allowed_client_apps", String.join(",", allowedClientApps));
        hash.put("expires_at", expiresAt == null ? "" : expiresAt.toString());
        hash.put("created_at", createdAt.toString());
        hash.put("updated_at", updatedAt.toString());
        hash.put(keyField(KeySlot.PRIMARY), primaryKeyHash == null ? "" : primaryKeyHash);
        hash.put(keyField(KeySlot.SECONDARY), secondaryKeyHash == null ? "" : secondaryKeyHash);
        hash.put("primary_rotated_at", primaryRotatedAt.toString());
        hash.put("secondary_rotated_at", secondaryRotatedAt.toString());
        hash.putAll(limitFields(limits));
        return hash;
    }

    public static Subscription fromHash(Map<String, String> hash) {
        return new Subscription(
                hash.get("id"),
                hash.getOrDefault("name", ""),
                State.parse(hash.get(STATE)),
                Scope.parse(hash.get("scope")),
                csv(hash.get("allowed_client_apps")),
                instant(hash.get("expires_at")),
                instant(hash.get("created_at")),
                instant(hash.get("updated_at")),
                blankToNull(hash.get(keyField(KeySlot.PRIMARY))),
                blankToNull(hash.get(keyField(KeySlot.SECONDARY))),
                instant(hash.get("primary_rotated_at")),
                instant(hash.get("secondary_rotated_at")),
                limits(hash));
    }

    /** Hashes written before limits existed simply have none. */
    private static TokenLimits limits(Map<String, String> hash) {
        String period = blankToNull(hash.get("token_quota_period"));
        return new TokenLimits(
                number(hash.get("tokens_per_minute")),
                number(hash.get("token_quota")),
                period == null ? null : QuotaPeriod.parse(period));
    }

    private static Long number(String value) {
        return value == null || value.isBlank() ? null : Long.valueOf(value.trim());
    }

    private static Set<String> csv(String value) {
        if (value == null || value.isBlank()) {
            return Set.of();
        }
        return Arrays.stream(value.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static Instant instant(String value) {
        return value == null || value.isBlank() ? null : Instant.parse(value);
    }

    /** The SHA-256 of one key, or null. */
    public String keyHash(KeySlot slot) {
        return slot == KeySlot.PRIMARY ? primaryKeyHash : secondaryKeyHash;
    }

    /** Which of the two keys. */
    public enum KeySlot {
        PRIMARY,
        SECONDARY;

        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
