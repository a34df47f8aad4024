package io.aigate.cli;

import io.aigate.inject.InjectCommand;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.util.Arrays;

/**
 * One artifact, three uses: {@code aigate keys …} administers subscription keys in Redis and exits, without starting
 * the gateway (no ports, no token fetches); {@code aigate inject …} serves the Kubernetes injection webhook (no Redis,
 * no backends); anything else starts the sidecar.
 */
@QuarkusMain
public class Main {

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("keys")) {
            System.exit(KeysCli.execute(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals("inject")) {
            System.exit(InjectCommand.execute(Arrays.copyOfRange(args, 1, args.length)));
        }
        Quarkus.run(args);
    }
}
