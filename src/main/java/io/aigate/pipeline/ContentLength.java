package io.aigate.pipeline;

/** The one reading of a declared size: every side that reads one (the gateway, the injector) reads it alike. */
public final class ContentLength {

    private ContentLength() {}

    /**
     * A {@code Content-Length} value as aigate reads it everywhere: -1 when absent; {@link Long#MAX_VALUE} when it is
     * not plain digits (a sign, a list, an overflow), so an unreadable size is never guessed, always too large.
     */
    public static long parse(String value) {
        if (value == null) {
            return -1;
        }
        String digits = value.trim();
        if (digits.isEmpty() || digits.length() > 18) {
            return Long.MAX_VALUE;
        }
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                return Long.MAX_VALUE;
            }
        }
        return Long.parseLong(digits);
    }
}
