package io.aigate.cli;

/** What an {@code aigate keys} run ended with: each code means one thing, so scripts can act on it. */
public enum ExitCode {
    /** Done as asked. */
    DONE(0),
    /** Redis could not be reached, refused the login, or failed; or no Entra token could be had. */
    UNREACHABLE(1),
    /** The arguments are wrong: nothing was tried. */
    USAGE(2),
    /** There is no subscription with that id. */
    NOT_FOUND(3),
    /** Someone else changed the subscription meanwhile: nothing was written; look, then run it again. */
    CONFLICT(4),
    /** The subscription's state forbids it: the id exists already, or the subscription is cancelled. */
    REFUSED(5);

    public final int code;

    ExitCode(int code) {
        this.code = code;
    }
}
