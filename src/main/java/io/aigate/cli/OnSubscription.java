package io.aigate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Parameters;

/** A command on one existing subscription, named by its id. */
abstract class OnSubscription implements Callable<Integer> {
    @CommandLine.ParentCommand
    KeysCli parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "ID")
    String id;
}
