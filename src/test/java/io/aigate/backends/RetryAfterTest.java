package io.aigate.backends;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

class RetryAfterTest {

    static final long NOW = Instant.parse("2026-11-29T12:00:00Z").toEpochMilli();

    static long read(String... pairs) {
        MultiMap headers = HttpHeaders.headers();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            headers.add(pairs[i], pairs[i + 1]);
        }
        return RetryAfter.millis(headers, NOW);
    }

    @Test
    void theMostPreciseHeaderWins() {
        assertEquals(8200, read("retry-after-ms", "8200", "Retry-After", "9"), "Azure's milliseconds first");
        assertEquals(9000, read("Retry-After", "9"));
        assertEquals(
                30_000,
                read(
                        "Retry-After",
                        DateTimeFormatter.RFC_1123_DATE_TIME.format(
                                Instant.ofEpochMilli(NOW + 30_000).atZone(ZoneOffset.UTC))),
                "an HTTP date");
        assertEquals(0, read("Retry-After", "Sat, 28 Nov 2026 12:00:00 GMT"), "a date gone by: no wait");
        assertEquals(
                362_000,
                read("x-ratelimit-reset-requests", "6m2s", "x-ratelimit-reset-tokens", "20ms"),
                "OpenAI's: the longer of the two");
        assertEquals(1500, read("x-ratelimit-reset-tokens", "1.5s"));
        assertEquals(-1, read("content-type", "application/json"), "none says");
    }

    @Test
    void absurdValuesAreIgnoredNeverGuessedAt() {
        for (String hostile :
                new String[] {"-5", "1.5", "9999999999999", "86401", " ", "", "0x10", "1e3", "٣", "+5", "5 5"}) {
            assertEquals(-1, read("Retry-After", hostile), hostile);
            assertEquals(-1, RetryAfter.wholeNumber(hostile, 1000), hostile);
        }
        assertEquals(86_400_000, read("Retry-After", "86400"), "a day is the longest wait read at all");
        assertEquals(-1, read("retry-after-ms", "-1"));
        assertEquals(
                5000, read("retry-after-ms", "abc", "Retry-After", "5"), "an unreadable one gives way to the next");
        for (String hostile : new String[] {"5", "s", "1x", "1.2.3s", "25h", "9".repeat(40) + "s", "ms"}) {
            assertEquals(-1, RetryAfter.openAiDuration(hostile), hostile);
        }
    }
}
