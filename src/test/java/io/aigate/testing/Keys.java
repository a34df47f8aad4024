package io.aigate.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aigate.cli.KeysCliAccess;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Runs the real key-admin CLI against a Redis, as an operator's script would: with {@code --output json}, reading
 * the document it printed ({@link #text} runs it for people, to test the sentences).
 */
public final class Keys {

    /** What one CLI run printed and returned. */
    public record Run(int exit, String out, String err) {

        /** The document printed (a JSON object). */
        public JsonObject json() {
            return new JsonObject(out);
        }

        /**
         * A key printed once: {@code Primary} or {@code Secondary} after {@code create}, {@code New} (any slot) after
         * {@code rotate}.
         */
        public String key(String label) {
            if (!out.trim().startsWith("{")) {
                // the sentences: "Primary key:   aig_…", "New secondary key: aig_…"
                java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                                "(Primary key|Secondary key|New \\w+ key):" + "\\s+(aig_\\S+)")
                        .matcher(out);
                while (m.find()) {
                    if (m.group(1).startsWith(label)) {
                        return m.group(2);
                    }
                }
                throw new AssertionError("no " + label + " key in: " + out + err);
            }
            JsonObject document = json();
            String key = switch (label) {
                case "Primary" -> document.getString("primaryKey");
                case "Secondary" -> document.getString("secondaryKey");
                default -> label.startsWith("New") ? document.getString("key") : null;
            };
            if (key == null) {
                throw new AssertionError("no " + label + " key in: " + out + err);
            }
            return key;
        }

        public String id() {
            if (!out.trim().startsWith("{")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("Created subscription (\\S+) ")
                        .matcher(out);
                if (!m.find()) {
                    throw new AssertionError("no subscription id in: " + out + err);
                }
                return m.group(1);
            }
            return json().getString("id");
        }
    }

    private Keys() {}

    /** Runs the CLI with {@code --output json}. */
    public static Run cli(String redisUrl, String... args) {
        return run(true, redisUrl, args);
    }

    /** Runs the CLI and insists it succeeded. */
    public static Run ok(String redisUrl, String... args) {
        Run run = cli(redisUrl, args);
        assertEquals(0, run.exit(), run.out() + run.err());
        return run;
    }

    /** Runs the CLI as a person would, and insists it succeeded. */
    public static Run okText(String redisUrl, String... args) {
        Run run = text(redisUrl, args);
        assertEquals(0, run.exit(), run.out() + run.err());
        return run;
    }

    /** Runs the CLI as a person would, printing sentences. */
    public static Run text(String redisUrl, String... args) {
        return run(false, redisUrl, args);
    }

    private static Run run(boolean json, String redisUrl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + (json ? 4 : 2)];
        all[0] = "--redis";
        all[1] = redisUrl;
        if (json) {
            all[2] = "--output";
            all[3] = "json";
        }
        System.arraycopy(args, 0, all, json ? 4 : 2, args.length);
        int exit = KeysCliAccess.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(exit, out.toString(), err.toString());
    }
}
