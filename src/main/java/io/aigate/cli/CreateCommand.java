package io.aigate.cli;

import io.aigate.subscription.Subscription;
import io.aigate.subscription.SubscriptionKeys;
import io.aigate.subscription.TokenLimits;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "create", description = "Create a subscription with a primary and a secondary key.")
class CreateCommand implements Callable<Integer> {
    @CommandLine.ParentCommand
    KeysCli parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--name", required = true, description = "Display name, e.g. the team or app.")
    String name;

    @Option(names = "--id", description = "Subscription id (a-z, 0-9, . _ -); generated when absent.")
    String id;

    @Option(
            names = "--scope",
            defaultValue = "all",
            description = "all | deployments:a,b | routes:a,b | product:name (default: ${DEFAULT-VALUE}).")
    String scope;

    @Option(
            names = "--allowed-client-apps",
            split = ",",
            paramLabel = "APP_ID",
            description = "Entra client application ids allowed to use the keys (azp/appid of the caller token).")
    List<String> clientApps;

    @Option(names = "--expires-in", paramLabel = "DURATION", description = "e.g. 90d; the subscription expires then.")
    String expiresIn;

    @Option(names = "--expires-at", paramLabel = "INSTANT", description = "e.g. 2027-01-31T00:00:00Z.")
    String expiresAt;

    @CommandLine.Mixin
    LimitOptions limitOptions;

    @Override
    public Integer call() throws Exception {
        TokenLimits limits = limitOptions.limits(spec, TokenLimits.NONE);
        String subscriptionId = id == null ? SubscriptionKeys.newId() : id;
        if (!KeysCli.ID.matcher(subscriptionId).matches()) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--id must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        }
        Subscription.Scope parsedScope;
        try {
            parsedScope = Subscription.Scope.parse(scope);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--scope: " + e.getMessage());
        }
        Instant now = Instant.now();
        Instant expires;
        try {
            if (expiresIn != null && expiresAt != null) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "give --expires-in or --expires-at, not both");
            }
            expires = expiresIn != null
                    ? now.plus(KeysCli.duration(expiresIn))
                    : expiresAt != null ? Instant.parse(expiresAt) : null;
        } catch (DateTimeParseException | CommandLine.TypeConversionException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        return parent.withStore(spec, (store, out) -> {
            KeyIssuer.Issued primary = KeyIssuer.fresh();
            KeyIssuer.Issued secondary = KeyIssuer.fresh();
            // the subscription names its keys' hashes first, then the keys are linked: a key opens only when both
            // agree, so a half-done create never leaves an open key; the id is claimed in the same step
            Subscription created = new Subscription(
                    subscriptionId,
                    name,
                    Subscription.State.ACTIVE,
                    parsedScope,
                    clientApps == null ? Set.of() : Set.copyOf(clientApps),
                    expires,
                    now,
                    now,
                    primary.hash(),
                    secondary.hash(),
                    now,
                    now,
                    limits);
            parent.applied(subscriptionId, store.create(created));
            KeyIssuer.Issued[] keys = {primary, secondary};
            for (Subscription.KeySlot slot : Subscription.KeySlot.values()) {
                KeyIssuer.Issued planned = keys[slot.ordinal()];
                if (!parent.await(store.link(planned.hash(), subscriptionId, slot))) {
                    // another subscription's key hash: 2^-256; a new key takes its place, guarded as a rotation
                    KeyIssuer.Issued replacement = parent.await(KeyIssuer.link(store, subscriptionId, slot));
                    parent.applied(
                            subscriptionId,
                            store.update(
                                    subscriptionId,
                                    Map.of(Subscription.keyField(slot), planned.hash()),
                                    Subscription.keyChange(slot, replacement.hash(), now)));
                    keys[slot.ordinal()] = replacement;
                }
            }
            out.print(
                    "Created subscription " + subscriptionId + " (" + name + "): active, scope " + parsedScope.wire()
                            + (expires == null ? "" : ", expires " + expires) + ".\n"
                            + "Primary key:   " + keys[0].key() + "\n"
                            + "Secondary key: " + keys[1].key() + "\n" + Output.SHOWN_ONCE,
                    Output.subscription(created, now)
                            .put("primaryKey", keys[0].key())
                            .put("secondaryKey", keys[1].key()));
        });
    }
}
