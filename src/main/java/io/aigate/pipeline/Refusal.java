package io.aigate.pipeline;

import java.util.Map;

/**
 * Why aigate answers a request itself instead of forwarding it. Each layer names its refusals in a type of its own
 * ({@code RequestRefusal}, {@code KeyRefusal}, {@code JwtRefusal}, {@code LimitRefusal}, {@code CredentialRefusal}),
 * and each refusal carries everything its answer needs, so no caller has to rebuild a status, a message or a metric
 * tag from strings. Messages are texts aigate chose: nothing a caller sent is ever part of one.
 */
public interface Refusal {

    int status();

    /** The message of APIM's error body, {@code {"statusCode":N,"message":"…"}}. */
    String message();

    /** Headers the answer carries, e.g. {@code Retry-After}. */
    Map<String, String> headers();

    /** A short machine word for the audit log and metrics, never sent to the caller, e.g. {@code key_unknown}. */
    String reason();

    /** The APIM policy (or aigate's own check) that refused, for the audit log: e.g. {@code validate-jwt}. */
    String policy();
}
