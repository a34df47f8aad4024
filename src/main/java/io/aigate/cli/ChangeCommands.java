package io.aigate.cli;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionStore;
import io.aigate.subscription.TokenLimits;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The commands that change one subscription. Each is one guarded, field-level write in Redis
 * ({@link SubscriptionStore#update}), then an invalidation every instance hears: a change that lost a race with
 * another admin writes nothing and exits {@link ExitCode#CONFLICT}.
 */
final class ChangeCommands {

    private ChangeCommands() {}

    @Command(name = "rotate", description = "Replace one key; the other keeps working (rotate without downtime).")
    static class Rotate extends OnSubscription {
        @Option(names = "--which", required = true, description = "primary or secondary")
        String which;

        @Override
        public Integer call() throws Exception {
            Subscription.KeySlot slot = switch (which) {
                case "primary" -> Subscription.KeySlot.PRIMARY;
                case "secondary" -> Subscription.KeySlot.SECONDARY;
                default ->
                    throw new CommandLine.ParameterException(
                            spec.commandLine(), "--which must be primary or secondary");
            };
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                String oldHash = s.keyHash(slot);
                KeyIssuer.Issued issued = parent.await(KeyIssuer.link(store, id, slot));
                // only this key's fields, and only if nobody rotated it or revoked the subscription since we looked
                SubscriptionStore.Change change = parent.await(store.update(
                        id,
                        Map.of(
                                Subscription.STATE,
                                Subscription.NOT_CANCELLED,
                                Subscription.keyField(slot),
                                oldHash == null ? "" : oldHash),
                        Subscription.keyChange(slot, issued.hash(), Instant.now())));
                if (!change.done()) {
                    parent.await(store.unlink(issued.hash()));
                    throw KeysCli.refused(id, change);
                }
                parent.await(store.unlink(oldHash));
                parent.await(store.invalidate(id));
                out.print(
                        "Rotated the " + slot.wire() + " key of " + id + "; the old one no longer works.\n" + "New "
                                + slot.wire() + " key: " + issued.key() + "\n" + Output.SHOWN_ONCE,
                        new JsonObject().put("id", id).put("slot", slot.wire()).put("key", issued.key()));
            });
        }
    }

    @Command(
            name = "limits",
            description =
                    "Set or clear a subscription's token limits; every instance applies them " + "within moments.")
    static class Limits extends OnSubscription {
        @CommandLine.Mixin
        LimitOptions limitOptions;

        @Option(names = "--clear", description = "Remove the subscription's own limits (the defaults apply again).")
        boolean clear;

        @Override
        public Integer call() throws Exception {
            if (clear == limitOptions.any()) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(),
                        "give --clear, or at least one of --tokens-per-minute, --token-quota, --token-quota-period");
            }
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                TokenLimits limits = clear ? TokenLimits.NONE : limitOptions.limits(spec, s.limits());
                // only the limits named; a quota that relies on the period already set insists it is still set
                Map<String, String> guards =
                        !clear && limitOptions.tokenQuota != null && limitOptions.tokenQuotaPeriod == null
                                ? Map.of("token_quota_period", "!")
                                : Map.of();
                SubscriptionStore.Change change = parent.applied(
                        id,
                        store.update(
                                id,
                                guards,
                                Subscription.limitsChange(
                                        limits,
                                        clear || limitOptions.tokensPerMinute != null,
                                        clear || limitOptions.tokenQuota != null,
                                        clear || limitOptions.tokenQuotaPeriod != null,
                                        Instant.now())));
                parent.await(store.invalidate(id));
                TokenLimits now = change.subscription().limits();
                out.print(
                        "Token limits of " + id + ": " + Output.describeLimits(now) + ".",
                        new JsonObject().put("id", id).put("limits", Output.limits(now)));
            });
        }
    }

    /** A state change, published to every instance. */
    abstract static class StateChange extends OnSubscription {

        private final Subscription.State target;
        private final String done;

        StateChange(Subscription.State target, String done) {
            this.target = target;
            this.done = done;
        }

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                // the state alone, and never out of cancelled: limits or keys changed meanwhile stay as they are
                SubscriptionStore.Change change = parent.applied(
                        id,
                        store.update(
                                id,
                                Map.of(Subscription.STATE, Subscription.NOT_CANCELLED),
                                Subscription.stateChange(target, Instant.now())));
                if (target == Subscription.State.CANCELLED) {
                    // the keys as they are now: a rotation that ran first is unlinked too, one that runs later fails
                    for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                        parent.await(store.unlink(change.subscription().keyHash(slot)));
                    }
                }
                parent.await(store.invalidate(id));
                out.print(
                        "Subscription " + id + " " + done + ".",
                        new JsonObject().put("id", id).put("state", target.wire()));
            });
        }
    }

    @Command(name = "suspend", description = "Refuse both keys until activated again.")
    static class Suspend extends StateChange {
        Suspend() {
            super(Subscription.State.SUSPENDED, "suspended: both keys are refused");
        }
    }

    @Command(name = "activate", description = "Accept the keys of a suspended subscription again.")
    static class Activate extends StateChange {
        Activate() {
            super(Subscription.State.ACTIVE, "active");
        }
    }

    @Command(name = "revoke", description = "Cancel for good: both keys stop working and cannot come back.")
    static class Revoke extends StateChange {
        Revoke() {
            super(Subscription.State.CANCELLED, "cancelled: both keys are revoked");
        }
    }

    @Command(name = "delete", description = "Remove the subscription and its keys from Redis.")
    static class Delete extends OnSubscription {

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                SubscriptionStore.Change removed = parent.applied(id, store.remove(id, Map.of()));
                for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                    parent.await(store.unlink(removed.subscription().keyHash(slot)));
                }
                parent.await(store.invalidate(id));
                out.print(
                        "Deleted subscription " + id + ".",
                        new JsonObject().put("id", id).put("deleted", true));
            });
        }
    }
}
