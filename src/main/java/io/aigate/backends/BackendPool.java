package io.aigate.backends;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The backends a route may use, in priority groups: the first group with a member that is not resting for the
 * request's deployment (and not already tried for this request) serves, its members chosen at random in proportion to
 * their weights. A backend used alone is a pool of one.
 */
public final class BackendPool {

    /** A member's place in the pool, with the breakers of every deployment it serves. */
    record Seat(String backend, int priority, int weight, DeploymentBreakers breakers, String fleetId) {

        Member of(String deployment) {
            String key = breakers.key(deployment);
            return new Member(backend, priority, weight, breakers.of(key), fleetId, key);
        }
    }

    private final String name;
    private final Seat[] members;
    /** Indexes into {@link #members}, one array per priority, lowest priority first. */
    private final int[][] groups;

    BackendPool(String name, List<Seat> members) {
        this.name = name;
        List<Seat> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparingInt(Seat::priority));
        this.members = sorted.toArray(Seat[]::new);
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

    /** The members as they serve one deployment. */
    public List<Member> members(String deployment) {
        List<Member> all = new ArrayList<>(members.length);
        for (Seat seat : members) {
            all.add(seat.of(deployment));
        }
        return all;
    }

    public int size() {
        return members.length;
    }

    /** The member at an index {@link #pick} returned, for the deployment it was picked for. */
    public Member member(int index, String deployment) {
        return members[index].of(deployment);
    }

    private CircuitBreaker[] breakers(String deployment) {
        CircuitBreaker[] breakers = new CircuitBreaker[members.length];
        for (int i = 0; i < members.length; i++) {
            DeploymentBreakers seat = members[i].breakers();
            breakers[i] = seat.of(seat.key(deployment));
        }
        return breakers;
    }

    /**
     * Chooses the member for the next attempt and takes it (as the probe, if it was resting).
     *
     * @param tried bit {@code i} set: member {@code i} already had this request
     * @param deployment the caller's name for the deployment, or null when the request names none
     * @return the member's index, or -1 when every untried member rests for that deployment
     */
    public int pick(long tried, String deployment, long now) {
        CircuitBreaker[] breakers = breakers(deployment);
        for (int[] group : groups) {
            long excluded = tried;
            while (true) {
                int total = 0;
                for (int i : group) {
                    if ((excluded & (1L << i)) == 0 && breakers[i].available(now)) {
                        total += members[i].weight();
                    }
                }
                if (total == 0) {
                    break; // the next group, only while this one has nothing to give
                }
                int draw = ThreadLocalRandom.current().nextInt(total);
                int chosen = -1;
                for (int i : group) {
                    if ((excluded & (1L << i)) == 0 && breakers[i].available(now)) {
                        draw -= members[i].weight();
                        if (draw < 0) {
                            chosen = i;
                            break;
                        }
                    }
                }
                if (chosen >= 0 && breakers[chosen].tryAcquire(now)) {
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
    public PoolRefusal resting(String deployment, long now) {
        long soonest = Long.MAX_VALUE;
        boolean throttled = false;
        for (CircuitBreaker breaker : breakers(deployment)) {
            long until = breaker.restUntil();
            if (until != 0 && until < soonest) {
                soonest = until;
                throttled = breaker.restIsThrottling();
            }
        }
        long waitMillis = soonest == Long.MAX_VALUE ? 1000 : Math.max(0, soonest - now);
        return new PoolRefusal(throttled, Math.max(1, (waitMillis + 999) / 1000));
    }
}
