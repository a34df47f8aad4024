package io.aigate.testing;

import io.aigate.admin.KeysCliAccess;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the real key-admin CLI against a Redis, as an operator would, and reads what it printed. */
public final class Keys {

    private static final Pattern KEY = Pattern.compile("(Primary key|Secondary key|New \\w+ key):\\s+(aig_\\S+)");

    /** What one CLI run printed and returned. */
    public record Run(int exit, String out, String err) {
        public String key(String label) {
            Matcher m = KEY.matcher(out);
            while (m.find()) {
                if (m.group(1).startsWith(label)) {
                    return m.group(2);
                }
            }
            throw new AssertionError("no " + label + " key in: " + out + err);
        }

        public String id() {
            Matcher m = Pattern.compile("Created subscription (\\S+) ").matcher(out);
            if (!m.find()) {
                throw new AssertionError("no subscription id in: " + out + err);
            }
            return m.group(1);
        }
    }

    private Keys() {
    }

    public static Run cli(String redisUrl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--redis";
        all[1] = redisUrl;
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = KeysCliAccess.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(exit, out.toString(), err.toString());
    }

    /** Runs the CLI and insists it succeeded. */
    public static Run ok(String redisUrl, String... args) {
        Run run = cli(redisUrl, args);
        assertEquals(0, run.exit(), run.out() + run.err());
        return run;
    }
}
