package io.aigate.gateway;

import java.util.Locale;

/**
 * Why a backend gave no answer aigate relayed, or cut the one it gave: the one set of reasons for the spans'
 * {@code error.type}, the GenAI duration's {@code error.type}, the retry counter's {@code why}, the refused-answers
 * counter and the caller's {@code Server-Timing}. A bounded set, whatever the backend does.
 */
enum Failure {
    /** Every connection aigate may open to the member is in use ({@code max-connections}): aigate's own bound. */
    BUSY,
    /** No connection, or no answer, in time. */
    TIMEOUT,
    /** No connection, or one lost before an answer came. */
    CONNECTION_FAILURE,
    /** The member's managed-identity token or API key could not be had. */
    CREDENTIAL,
    /** An answer that had begun was broken off by the backend. */
    CUT,
    /** A redirect, which aigate never follows or relays. */
    REDIRECT,
    /** A status aigate never relays (an interim one, a proxy's challenge, no number). */
    INVALID_STATUS;

    private final String tag = name().toLowerCase(Locale.ROOT);

    /** The value in every signal: {@code timeout}, {@code connection_failure}, … */
    String tag() {
        return tag;
    }

    /** A connection that never came, or an answer that never did. */
    static Failure lost(boolean timedOut) {
        return timedOut ? TIMEOUT : CONNECTION_FAILURE;
    }

    /** The status a backend answered that is never relayed. */
    static Failure unrelayable(int status) {
        return status >= 300 && status < 400 ? REDIRECT : INVALID_STATUS;
    }
}
