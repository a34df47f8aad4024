package io.aigate.pipeline;

/**
 * What a step decided: let the request go on, or refuse it. A step that refuses never lets the request reach a
 * backend; the refusal renders the answer.
 */
public final class Outcome {

    private static final Outcome CONTINUE = new Outcome(null);

    private final Refusal refusal;

    private Outcome(Refusal refusal) {
        this.refusal = refusal;
    }

    public static Outcome proceed() {
        return CONTINUE;
    }

    public static Outcome refuse(Refusal refusal) {
        return new Outcome(java.util.Objects.requireNonNull(refusal));
    }

    public boolean proceeds() {
        return refusal == null;
    }

    /** Why the request is refused; null when it proceeds. */
    public Refusal refusal() {
        return refusal;
    }

    @Override
    public String toString() {
        return proceeds() ? "continue" : "refuse " + refusal.status() + " (" + refusal.reason() + ")";
    }
}
