package io.aigate.config;

import io.quarkus.runtime.configuration.ConfigurationException;
import java.util.ArrayList;
import java.util.List;

/**
 * Status codes and inclusive ranges as APIM writes them ({@code 429,500-599}): which answers a circuit breaker counts
 * as failures, and which a route tries again on the next member. The one reading of that syntax.
 */
public final class StatusRanges {

    private final int[][] ranges;

    private StatusRanges(int[][] ranges) {
        this.ranges = ranges;
    }

    /**
     * Reads a configured list once, where it is used, checked as start-up needs it: failures only (400 up).
     *
     * @param key the configuration key, named in the one sentence start-up stops with
     * @throws ConfigurationException naming the key, the entry that is not a status or range, and the fix
     */
    public static StatusRanges read(String key, List<String> entries) {
        StatusRanges ranges;
        try {
            ranges = parse(entries);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(
                    key + " lists '" + e.getMessage() + "': use statuses or ranges within 100-599, e.g. 429,500-599.");
        }
        if (ranges.lowest() < 400) {
            throw new ConfigurationException(key + " includes " + ranges.lowest()
                    + ", which is not a failure: list statuses from 400 up, e.g. 429,500-599.");
        }
        return ranges;
    }

    /**
     * @param entries each a status or an inclusive range within 100-599
     * @throws IllegalArgumentException naming the entry that is not one
     */
    static StatusRanges parse(List<String> entries) {
        List<int[]> ranges = new ArrayList<>();
        for (String entry : entries) {
            String e = entry.trim();
            int dash = e.indexOf('-');
            try {
                int min = Integer.parseInt(dash < 0 ? e : e.substring(0, dash).trim());
                int max =
                        dash < 0 ? min : Integer.parseInt(e.substring(dash + 1).trim());
                if (min < 100 || max > 599 || min > max) {
                    throw new IllegalArgumentException(entry);
                }
                ranges.add(new int[] {min, max});
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException(entry, ex);
            }
        }
        return new StatusRanges(ranges.toArray(int[][]::new));
    }

    /** The lowest status listed (600 when none is). */
    public int lowest() {
        int lowest = 600;
        for (int[] range : ranges) {
            lowest = Math.min(lowest, range[0]);
        }
        return lowest;
    }

    public boolean contains(int status) {
        for (int[] range : ranges) {
            if (status >= range[0] && status <= range[1]) {
                return true;
            }
        }
        return false;
    }
}
