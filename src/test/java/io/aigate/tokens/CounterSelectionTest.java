package io.aigate.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.config.AigateConfig;
import io.aigate.config.QuotaPeriod;
import io.aigate.pipeline.Caller;
import io.aigate.pipeline.RequestContext;
import io.aigate.subscription.TokenLimits;
import io.aigate.testing.Configs;
import io.aigate.testing.Requests;
import io.vertx.core.http.HttpHeaders;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Whose budget a request spends, and which limits apply to it: decided from the request alone. */
class CounterSelectionTest {

    private static LlmTokenLimit limit(String counterKey) {
        Map<String, String> values = new HashMap<>(Map.of(
                "aigate.token-limit.tokens-per-minute",
                "1000",
                "aigate.token-limit.token-quota",
                "50000",
                "aigate.token-limit.token-quota-period",
                "Daily"));
        values.put("aigate.token-limit.counter-key", counterKey);
        AigateConfig config = Configs.aigate(values);
        return new LlmTokenLimit(
                config.tokenLimit(),
                io.aigate.config.CounterKey.read(config.tokenLimit().counterKey()),
                null);
    }

    private static RequestContext request(String subscription, String clientApp, String header) {
        RequestContext ctx = Requests.chat(
                header == null ? HttpHeaders.headers() : HttpHeaders.headers().add("x-team", header),
                "default",
                "aoai",
                "gpt-4o");
        ctx.caller(Caller.subscribed(subscription, Set.of()).withToken(clientApp, null));
        return ctx;
    }

    @Test
    void theConfiguredLimitsApplyUnlessTheSubscriptionSetsItsOwn() {
        LlmTokenLimit limit = limit("subscription");
        TokenCounter defaults = limit.counterFor(request("team-a", null, null));
        assertEquals(1000, defaults.tokensPerMinute());
        assertEquals(50000, defaults.tokenQuota());
        assertEquals(QuotaPeriod.DAILY, defaults.period());

        RequestContext own = request("team-a", null, null);
        own.put(TokenLimits.PART, new TokenLimits(200L, 0L, QuotaPeriod.MONTHLY));
        TokenCounter counter = limit.counterFor(own);
        assertEquals(200, counter.tokensPerMinute());
        assertEquals(0, counter.tokenQuota(), "a subscription's 0 switches the configured quota off");
        assertEquals(QuotaPeriod.MONTHLY, counter.period());

        RequestContext negative = request("team-a", null, null);
        negative.put(TokenLimits.PART, new TokenLimits(-5L, Long.MIN_VALUE, null));
        TokenCounter clamped = limit.counterFor(negative);
        assertEquals(0, clamped.tokensPerMinute());
        assertEquals(0, clamped.tokenQuota());
        assertEquals(QuotaPeriod.DAILY, clamped.period(), "no period of its own: the configured one");
    }

    @Test
    void eachCounterKeyNamesItsOwnBudget() {
        assertEquals(
                "s:team-a",
                limit("subscription")
                        .counterFor(request("team-a", "app-1", "x"))
                        .tag());
        assertEquals(
                "a:app-1",
                limit("client-app").counterFor(request("team-a", "app-1", "x")).tag());
        TokenCounter byHeader = limit("header:x-team").counterFor(request("team-a", "app-1", "blue"));
        assertTrue(byHeader.tag().matches("h:[0-9a-f]{16}"), byHeader.tag());
        assertEquals(byHeader.tag(), byHeader.label(), "a header's value never reaches a label or key as it is");
        assertNotEquals(
                byHeader.tag(),
                limit("header:x-team")
                        .counterFor(request("team-a", "app-1", "red"))
                        .tag());
    }

    @Test
    void callersTheKeyCannotTellApartShareOneBudget() {
        assertEquals(
                "anonymous",
                limit("subscription").counterFor(request(null, null, null)).tag());
        assertEquals(
                "anonymous",
                limit("client-app").counterFor(request("team-a", null, null)).tag());
        assertEquals(
                "anonymous",
                limit("header:x-team").counterFor(request(null, null, "")).tag());
    }

    /** The caller picks the header's value: it may split its own budget with it, never reach another's. */
    @Test
    void aHeaderValueNamesABudgetOnlyInsideTheCallersSubscription() {
        LlmTokenLimit byHeader = limit("header:x-team");
        String aBlue = byHeader.counterFor(request("team-a", null, "blue")).tag();
        assertNotEquals(
                aBlue, byHeader.counterFor(request("team-b", null, "blue")).tag(), "same value, other team");
        assertEquals(
                aBlue, byHeader.counterFor(request("team-a", "app-9", "blue")).tag(), "the subscription scopes");
        assertNotEquals(
                aBlue,
                byHeader.counterFor(request(null, "team-a", "blue")).tag(),
                "a client app's scope is not a subscription's of the same name");
        String aNone = byHeader.counterFor(request("team-a", null, null)).tag();
        assertNotEquals("anonymous", aNone, "without the header: the subscription's own budget, not everyone's");
        assertEquals(aNone, byHeader.counterFor(request("team-a", null, "")).tag());
        assertNotEquals(
                aNone, byHeader.counterFor(request("team-b", null, null)).tag());
    }

    @Test
    void identifiersThatAreNotPlainAreDigested() {
        TokenCounter odd = limit("client-app").counterFor(request(null, "app/../../x\n", null));
        assertTrue(odd.tag().matches("x:[0-9a-f]{16}"), odd.tag());
        assertFalse(odd.label().contains("/"), odd.label());
    }
}
