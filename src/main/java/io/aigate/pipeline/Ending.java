package io.aigate.pipeline;

/**
 * How a request ended, as far as what it cost goes: whether a backend had it and whether its answer came whole. How the
 * caller's side ended (refused, relayed, cut, caller gone) is the gateway's record; this is what a policy settles by.
 */
public enum Ending {
    /** No backend had the request: refused, no member to take it, no connection, the caller gone first. */
    NOT_SENT,
    /**
     * A backend had it and gave no answer aigate relayed (a timeout, a reset, an answer never relayed, the caller
     * gone): it may have served it, and billed it.
     */
    UNANSWERED,
    /** An answer was relayed to its end. */
    ANSWERED,
    /** An answer began and was cut, by the backend or by a caller who left. */
    CUT
}
