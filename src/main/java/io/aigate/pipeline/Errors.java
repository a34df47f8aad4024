package io.aigate.pipeline;

/** The one way aigate puts an error into a log line or a message for people: never a stack trace. */
public final class Errors {

    private static final int MAX_LENGTH = 300;

    private Errors() {}

    /**
     * {@code Type: first line of the message} of the deepest cause (a wrapped {@code ConnectException} says more
     * than its wrapper), at most 300 characters.
     */
    public static String describe(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getSimpleName();
        }
        int newline = message.indexOf('\n');
        String line = (newline < 0 ? message : message.substring(0, newline)).strip();
        return root.getClass().getSimpleName() + ": "
                + (line.length() > MAX_LENGTH ? line.substring(0, MAX_LENGTH) + "…" : line);
    }
}
