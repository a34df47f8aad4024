package io.aigate.tokens;

/**
 * Tokens a step set aside before forwarding, settled once the request's fate is known. Every way out of a request
 * settles; an implementation counts only the first settlement. The rule is "never refund what the backend may have served": only a
 * request the backend provably never received gives its reservation back.
 */
public interface Reservation {

    /** The answer reported its usage: it replaces the reservation. */
    void used(long tokens);

    /**
     * What is known is a lower bound (a cut stream counted from what passed): the reservation stands unless more
     * than it passed.
     */
    void atLeast(long tokens);

    /** The backend may have done the work but the usage cannot be read: the reservation stands. */
    void unknown();

    /** The backend never received the request (refused before forwarding, connection never made, a 4xx refusal). */
    void release();
}
