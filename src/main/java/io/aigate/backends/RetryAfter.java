package io.aigate.backends;

import io.vertx.core.MultiMap;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * How long a throttled backend asks to be left alone, from the headers Azure OpenAI and OpenAI send with a 429:
 * {@code retry-after-ms} (Azure, milliseconds), {@code Retry-After} (seconds, or an HTTP date), and OpenAI's
 * {@code x-ratelimit-reset-requests} / {@code x-ratelimit-reset-tokens} ({@code 1s}, {@code 6m0s}, {@code 20ms}). The
 * most precise one present wins. Every value comes from outside: a negative, fractional-where-whole, overflowing or
 * unreadable one is ignored rather than guessed at, and the caller bounds the result.
 */
public final class RetryAfter {

    /** No backend wait beyond this is read as one (a day): longer texts are lies or typos, and are ignored. */
    private static final long MAX_READ_MILLIS = 86_400_000L;

    private RetryAfter() {}

    /** The wait in milliseconds, or -1 when no header says one. */
    public static long millis(MultiMap headers, long nowMillis) {
        long ms = wholeNumber(headers.get("retry-after-ms"), 1);
        if (ms >= 0) {
            return ms;
        }
        String retryAfter = headers.get("Retry-After");
        long seconds = wholeNumber(retryAfter, 1000);
        if (seconds >= 0) {
            return seconds;
        }
        long date = httpDate(retryAfter, nowMillis);
        if (date >= 0) {
            return date;
        }
        return Math.max(
                openAiDuration(headers.get("x-ratelimit-reset-requests")),
                openAiDuration(headers.get("x-ratelimit-reset-tokens")));
    }

    /** A whole number of units (digits only, at most a day), scaled to milliseconds; -1 otherwise. */
    static long wholeNumber(String text, long unitMillis) {
        long value = text == null ? -1 : digits(text.trim());
        if (value < 0 || value > 999_999_999_999L) {
            return -1;
        }
        long millis = value * unitMillis;
        return millis > MAX_READ_MILLIS ? -1 : millis;
    }

    /** Digits only, at most 15 of them (no sign, space, point or exponent); -1 otherwise. */
    static long digits(String text) {
        if (text.isEmpty() || text.length() > 15) {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static long httpDate(String text, long nowMillis) {
        if (text == null || text.length() > 64) {
            return -1;
        }
        try {
            long at = ZonedDateTime.parse(text.trim(), DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant()
                    .toEpochMilli();
            long wait = Math.max(0, at - nowMillis);
            return wait > MAX_READ_MILLIS ? -1 : wait;
        } catch (DateTimeParseException e) {
            return -1;
        }
    }

    /** OpenAI's {@code 1h2m3.5s} / {@code 20ms} form; -1 when it is not one. */
    static long openAiDuration(String text) {
        if (text == null || text.isEmpty() || text.length() > 32) {
            return -1;
        }
        long total = 0;
        int i = 0;
        boolean any = false;
        while (i < text.length()) {
            int start = i;
            while (i < text.length() && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
                i++;
            }
            if (start == i) {
                return -1;
            }
            double number;
            try {
                number = Double.parseDouble(text.substring(start, i));
            } catch (NumberFormatException e) {
                return -1;
            }
            long unit;
            if (text.startsWith("ms", i)) {
                unit = 1;
                i += 2;
            } else if (text.startsWith("h", i)) {
                unit = 3_600_000;
                i += 1;
            } else if (text.startsWith("m", i)) {
                unit = 60_000;
                i += 1;
            } else if (text.startsWith("s", i)) {
                unit = 1000;
                i += 1;
            } else {
                return -1;
            }
            total += (long) Math.ceil(number * unit);
            if (total > MAX_READ_MILLIS) {
                return -1;
            }
            any = true;
        }
        return any ? total : -1;
    }
}
