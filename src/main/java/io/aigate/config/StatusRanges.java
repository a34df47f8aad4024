package io.aigate.config;

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
     * @param entries each a status or an inclusive range within 100-599
     * @throws IllegalArgumentException naming the entry that is not one
     */
    public static StatusRanges parse(List<String> entries) {
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
