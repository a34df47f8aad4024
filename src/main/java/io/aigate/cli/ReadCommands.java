package io.aigate.cli;

import io.aigate.subscription.Subscription;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The commands that only read: never any key material. */
final class ReadCommands {

    private ReadCommands() {}

    @Command(name = "list", description = "List subscriptions (no key material).")
    static class ListCommand implements Callable<Integer> {
        @CommandLine.ParentCommand
        KeysCli parent;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(
                names = "--expiring-within",
                paramLabel = "DURATION",
                description = "Only active subscriptions that expire within this, e.g. 14d.")
        String expiringWithin;

        @Override
        public Integer call() throws Exception {
            Duration window;
            try {
                window = expiringWithin == null ? null : KeysCli.duration(expiringWithin);
            } catch (CommandLine.TypeConversionException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            return parent.withStore(spec, (store, out) -> {
                Instant now = Instant.now();
                List<Subscription> all = parent.await(store.list()).stream()
                        .filter(s -> window == null
                                || (s.state() == Subscription.State.ACTIVE
                                        && s.expiresAt() != null
                                        && s.expiresAt().isBefore(now.plus(window))))
                        .sorted(Comparator.comparing(Subscription::id))
                        .toList();
                StringBuilder text = new StringBuilder(
                        String.format("%-24s %-24s %-10s %-28s %-22s", "ID", "NAME", "STATE", "SCOPE", "EXPIRES"));
                JsonArray documents = new JsonArray();
                for (Subscription s : all) {
                    text.append(String.format(
                            "%n%-24s %-24s %-10s %-28s %-22s",
                            s.id(),
                            s.name(),
                            s.effectiveState(now).wire(),
                            s.scope().wire(),
                            s.expiresAt() == null ? "never" : s.expiresAt().toString()));
                    documents.add(Output.subscription(s, now));
                }
                if (window != null && all.isEmpty()) {
                    text.append("\n(no active subscription expires within ")
                            .append(expiringWithin)
                            .append(")");
                }
                out.print(text.toString(), documents);
            });
        }
    }

    @Command(name = "show", description = "Show one subscription (no key material).")
    static class ShowCommand extends OnSubscription {

        @Override
        public Integer call() throws Exception {
            return parent.withStore(spec, (store, out) -> {
                Subscription s = parent.existing(store, id);
                Instant now = Instant.now();
                out.print(
                        String.join(
                                "\n",
                                "id:                  " + s.id(),
                                "name:                " + s.name(),
                                "state:               " + s.effectiveState(now).wire(),
                                "scope:               " + s.scope().wire(),
                                "allowed client apps: "
                                        + (s.allowedClientApps().isEmpty()
                                                ? "any"
                                                : String.join(",", s.allowedClientApps())),
                                "expires:             " + (s.expiresAt() == null ? "never" : s.expiresAt()),
                                "created:             " + s.createdAt(),
                                "updated:             " + s.updatedAt(),
                                "primary rotated:     " + s.primaryRotatedAt(),
                                "secondary rotated:   " + s.secondaryRotatedAt(),
                                "token limits:        " + Output.describeLimits(s.limits())),
                        Output.subscription(s, now));
            });
        }
    }
}
