package io.aigate.cli;

import java.io.PrintWriter;

/** Lets test helpers in other packages run the CLI with their own output streams. */
public final class KeysCliAccess {

    private KeysCliAccess() {}

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return KeysCli.execute(out, err, args);
    }
}
