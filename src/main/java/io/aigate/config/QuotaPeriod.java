package io.aigate.config;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;

/**
 * APIM's {@code token-quota-period}: fixed windows aligned to UTC, so every instance (and every person reading a
 * dashboard) agrees on when a quota renews. Weeks start on Monday (ISO 8601).
 */
public enum QuotaPeriod {
    HOURLY,
    DAILY,
    WEEKLY,
    MONTHLY,
    YEARLY;

    public Instant windowStart(Instant now) {
        ZonedDateTime t = now.atZone(ZoneOffset.UTC);
        return switch (this) {
            case HOURLY -> t.truncatedTo(ChronoUnit.HOURS).toInstant();
            case DAILY -> t.truncatedTo(ChronoUnit.DAYS).toInstant();
            case WEEKLY ->
                t.toLocalDate()
                        .with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY))
                        .atStartOfDay(ZoneOffset.UTC)
                        .toInstant();
            case MONTHLY ->
                LocalDate.of(t.getYear(), t.getMonth(), 1)
                        .atStartOfDay(ZoneOffset.UTC)
                        .toInstant();
            case YEARLY ->
                LocalDate.of(t.getYear(), 1, 1).atStartOfDay(ZoneOffset.UTC).toInstant();
        };
    }

    public Instant windowEnd(Instant now) {
        ZonedDateTime start = windowStart(now).atZone(ZoneOffset.UTC);
        ZonedDateTime end = switch (this) {
            case HOURLY -> start.plusHours(1);
            case DAILY -> start.plusDays(1);
            case WEEKLY -> start.plusWeeks(1);
            case MONTHLY -> start.plusMonths(1);
            case YEARLY -> start.plusYears(1);
        };
        return end.toInstant();
    }

    /** APIM's spelling: {@code Hourly}, {@code Daily}, …; parsing ignores case. */
    public String wire() {
        return name().charAt(0) + name().substring(1).toLowerCase(java.util.Locale.ROOT);
    }

    public static QuotaPeriod parse(String text) {
        for (QuotaPeriod p : values()) {
            if (p.name().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("token-quota-period must be Hourly, Daily, Weekly, Monthly or Yearly");
    }
}
