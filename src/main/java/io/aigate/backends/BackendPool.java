package io.aigate.backends;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The backends a route may use, in priority groups: the first group with a member that is not resting (and not
 * already tried for this request) serves, its members chosen at random in proportion to their weights. A backend used
 * alone is a pool of one.
 */
public final class BackendPool {

    private final String name;
    private final Member[] members;
    /** Indexes into {@link #members}, one array per priority, lowest priority first. */
    private final int[][] groups;

    BackendPool(String name, List<Member> members) {
        this.name = name;
        List<Member> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparingInt(Member::priority));
        this.members = sorted.toArray(Member[]::new);
        List<int[]> grouped = new ArrayList<>();
        int start = 0;
        for (int i = 1; i <= this.members.length; i++) {
            if (i == this.members.length || this.members[i].priority() != this.members[start].priority()) {
                int[] group = new int[i - start];
                for (int j = 0; j < group.length; j++) {
                    group[j] = start + j;
                }
                grouped.add(group);
                start = i;
            }
        }
        this.groups = grouped.toArray(int[][]::new);
    }

    public String name() {
        return name;
    }

    public List<Member> members() {
        return List.of(members);
    }

    public int size() {
        return members.length;
    }

    /** The member at an index {@link #pick} returned. */
    public Member member(int index) {
        return members[index];
    }

    /**
     * Chooses the member for the next attempt and takes it (as the probe, if it was resting).
     *
     * @param tried bit {@code i} set: member {@code i} already had this request
     * @return the member's index, or -1 when every untried member rests
     */
    public int pick(long tried, long now) {
        for (int[] group : groups) {
            long excluded = tried;
            while (true) {
                int total = 0;
                for (int i : group) {
                    if ((excluded & (1L << i)) == 0 && members[i].breaker().available(now)) {
                        total += members[i].weight();
                    }
                }
                if (total == 0) {
                    break; // the next group, only while this one has nothing to give
                }
                int draw = ThreadLocalRandom.current().nextInt(total);
                int chosen = -1;
                for (int i : group) {
                    if ((excluded & (1L << i)) == 0 && members[i].breaker().available(now)) {
                        draw -= members[i].weight();
                        if (draw < 0) {
                            chosen = i;
                            break;
                        }
                    }
                }
                if (chosen >= 0 && members[chosen].breaker().tryAcquire(now)) {
                    return chosen;
                }
                if (chosen < 0) {
                    break;
                }
                excluded |= 1L << chosen; // another request took its probe slot meanwhile
            }
        }
        return -1;
    }

    /** What to tell a caller when no member can take the request: the shortest rest left, and whether it is a 429's. */
    public PoolRefusal resting(long now) {
        long soonest = Long.MAX_VALUE;
        boolean throttled = false;
        for (Member member : members) {
            long until = member.breaker().restUntil();
            if (until != 0 && until < soonest) {
                soonest = until;
                throttled = member.breaker().restIsThrottling();
            }
        }
        long waitMillis = soonest == Long.MAX_VALUE ? 1000 : Math.max(0, soonest - now);
        return new PoolRefusal(throttled, Math.max(1, (waitMillis + 999) / 1000));
    }
}
