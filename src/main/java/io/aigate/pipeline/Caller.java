package io.aigate.pipeline;

import java.util.Set;

/**
 * Who is calling, as the layers learned it. Absent parts are null (never a placeholder word): a request without a
 * subscription key on an open route has no subscription id.
 *
 * @param subscriptionId    written by validate-subscription-key as soon as the key is known, even when it then refuses
 *                          (the log says whose key it was); read by the token limit, token metrics and the access log
 * @param allowedClientApps the client applications the subscription is bound to (empty: any); read by validate-jwt
 * @param clientAppId       the token's {@code azp}/{@code appid}, written by validate-jwt; read by the token limit
 *                          when its counter key is {@code client-app}, and by the audit log
 * @param objectId          the token's {@code oid} (the calling identity), written by validate-jwt; read by the audit
 *                          log
 */
public record Caller(String subscriptionId, Set<String> allowedClientApps, String clientAppId, String objectId) {

    /** Nothing known yet. */
    public static final Caller UNKNOWN = new Caller(null, Set.of(), null, null);

    public Caller {
        allowedClientApps = Set.copyOf(allowedClientApps);
    }

    /** The subscription a key opened, and the client applications it is bound to. */
    public static Caller subscribed(String subscriptionId, Set<String> allowedClientApps) {
        return new Caller(subscriptionId, allowedClientApps, null, null);
    }

    /** What a verified token says of its caller. */
    public Caller withToken(String clientApp, String object) {
        return new Caller(subscriptionId, allowedClientApps, clientApp, object);
    }
}
