package io.aigate.pipeline;

import io.vertx.core.Future;

/**
 * One policy of the inbound section, named after the APIM policy it reproduces. Runs on the event loop: it must not
 * block. A step that needs I/O returns a future that completes later; a step that decides at once returns a completed
 * one ({@link Future#succeededFuture(Object)}), which costs nothing to chain.
 */
public interface Step {

    /** The name used in logs and metrics, e.g. {@code authentication-managed-identity}. */
    String name();

    Future<Outcome> apply(RequestContext ctx);

    /**
     * Whether the step reads the request body. Steps that judge only headers run before a single body byte is
     * buffered, so a caller without a valid key or token never gets to make aigate hold its upload.
     */
    default boolean needsBody() {
        return false;
    }
}
