package io.aigate.gateway;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.aigate.config.AigateConfig;
import io.aigate.pipeline.Caller;
import io.aigate.pipeline.RequestContext;
import io.aigate.tokens.LlmEmitTokenMetric;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * The audit trail: one JSON line per request on the {@code aigate.audit} logger, written to stdout on a handler of its
 * own (the line and nothing else), so Container Insights / Azure Monitor collect it as it is. It answers "who used
 * which model, how much, and what was refused": time, request id, subscription, client application and object id
 * from the token, route, deployment, the backend that served, status, the policy and reason of a refusal, the token
 * limit's decision, prompt and completion tokens (reported or estimated), time to first byte, duration, bytes. Never a
 * key, a token, a prompt or a completion: every value is an id aigate checked, a configured name, or a number.
 */
@Singleton
public class AuditLog {

    private static final Logger AUDIT = Logger.getLogger("aigate.audit");
    private static final JsonFactory JSON = new JsonFactory();
    /** Each event loop writes its lines into one buffer of its own, reused: only the line itself is new. */
    private static final ThreadLocal<StringWriter> LINE = ThreadLocal.withInitial(() -> new StringWriter(512));

    private final AigateConfig.AuditMode mode;

    AuditLog(AigateConfig.Audit audit) {
        this.mode = audit.log();
    }

    /** Whether this request gets a line. */
    boolean wants(int status, boolean refused) {
        return switch (mode) {
            case ALL -> AUDIT.isInfoEnabled();
            case REFUSALS -> (refused || status >= 400) && AUDIT.isInfoEnabled();
            case OFF -> false;
        };
    }

    void write(RequestLifecycle life, int status, RequestLifecycle.Outcome outcome, long endNanos) {
        if (!wants(status, life.refusal != null)) {
            return;
        }
        RequestContext ctx = life.ctx;
        Caller caller = ctx == null ? Caller.UNKNOWN : ctx.caller();
        LlmEmitTokenMetric.Counted tokens = ctx == null ? null : ctx.get(LlmEmitTokenMetric.COUNTED);
        StringWriter out = LINE.get();
        out.getBuffer().setLength(0);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            // when it arrived, from the one wall-clock read at its end: its start was taken on the monotonic clock
            json.writeStringField(
                    "time",
                    Instant.ofEpochMilli(System.currentTimeMillis() - (endNanos - life.receivedNanos) / 1_000_000)
                            .toString());
            json.writeStringField("request_id", life.requestId);
            json.writeStringField("subscription_id", life.subscription());
            json.writeStringField("client_app_id", caller.clientAppId());
            json.writeStringField("object_id", caller.objectId());
            json.writeStringField("route", life.route());
            json.writeStringField("deployment", GatewayHandler.printable(life.deployment));
            json.writeStringField("backend", life.backend());
            json.writeNumberField("status", status);
            json.writeStringField("outcome", outcome.tag());
            json.writeStringField("refused_by", life.refusal == null ? null : life.refusal.policy());
            json.writeStringField("reason", life.refusal == null ? null : life.refusal.reason());
            json.writeStringField("token_limit", life.tokenLimit());
            if (tokens != null) {
                json.writeNumberField("prompt_tokens", tokens.promptTokens());
                json.writeNumberField("completion_tokens", tokens.completionTokens());
                json.writeStringField("tokens", tokens.estimated() ? "estimated" : "reported");
            } else {
                json.writeStringField("tokens", "none");
            }
            if (life.headersAt != 0) {
                json.writeFieldName("ttfb_ms");
                json.writeNumber(Timing.millis(life.headersAt - life.receivedNanos));
            }
            json.writeFieldName("duration_ms");
            json.writeNumber(Timing.millis(endNanos - life.receivedNanos));
            RealtimeSession session = life.session;
            json.writeNumberField("request_bytes", session != null ? session.bytesFromCaller() : life.bodyBytes);
            json.writeNumberField(
                    "response_bytes",
                    session != null
                            ? session.bytesToCaller()
                            : life.request.response().bytesWritten());
            if (session != null) {
                session.audit(json);
            }
            json.writeEndObject();
            json.flush();
            AUDIT.info(out.toString());
        } catch (IOException e) {
            AUDIT.warnf("audit line not written: %s", e.getClass().getSimpleName());
        }
    }
}
