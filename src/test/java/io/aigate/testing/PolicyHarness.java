package io.aigate.testing;

import io.aigate.pipeline.Answer;
import io.aigate.pipeline.Ending;
import io.aigate.pipeline.Outcome;
import io.aigate.pipeline.Policy;
import io.aigate.pipeline.RequestContext;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import java.util.concurrent.TimeUnit;

/**
 * One request through a few policies, phase by phase, without Quarkus or a socket: what linkerd's {@code new_svc!}
 * is to its layers. The policies run in the order given for the request's phases and in reverse for the answer's, as
 * the gateway runs them; every phase is awaited, so a test reads what each one decided.
 */
public final class PolicyHarness {

    /** What the caller would receive of an answer: its headers (a held answer's, as its policies left them) and body. */
    public record Relayed(MultiMap headers, Buffer body, boolean held, boolean rewritten) {}

    private final RequestContext ctx;
    private final Policy.Instance[] instances;

    private PolicyHarness(RequestContext ctx, Policy... policies) {
        this.ctx = ctx;
        this.instances = new Policy.Instance[policies.length];
        for (int i = 0; i < policies.length; i++) {
            instances[i] = policies[i].open(ctx);
        }
    }

    /** Opens each policy's instance for the request, as the gateway does once its target is read. */
    public static PolicyHarness open(RequestContext ctx, Policy... policies) {
        return new PolicyHarness(ctx, policies);
    }

    public RequestContext ctx() {
        return ctx;
    }

    /** The header phases, then the body phases: the first refusal is the outcome. */
    public Outcome request() {
        for (Policy.Instance instance : instances) {
            Outcome o = await(instance.onRequestHeaders(ctx));
            if (!o.proceeds()) {
                return o;
            }
        }
        for (Policy.Instance instance : instances) {
            Outcome o = await(instance.onRequestBody(ctx));
            if (!o.proceeds()) {
                return o;
            }
        }
        return Outcome.proceed();
    }

    /** The attempt phase, for the member the route names now. */
    public Outcome attempt() {
        for (Policy.Instance instance : instances) {
            Outcome o = await(instance.onAttempt(ctx));
            if (!o.proceeds()) {
                return o;
            }
        }
        return Outcome.proceed();
    }

    /**
     * An answer passes: its head to every policy, then each chunk through the filters they set, then the request ends
     * {@link Ending#ANSWERED}. A held answer's headers are read after the end, as the gateway relays it.
     */
    public Relayed answer(int status, MultiMap headers, String... chunks) {
        MultiMap callerHeaders = HttpHeaders.headers().addAll(headers);
        String length = headers.get(HttpHeaders.CONTENT_LENGTH);
        Answer answer = new Answer(status, headers, callerHeaders, length == null ? -1 : Long.parseLong(length));
        for (int i = instances.length - 1; i >= 0; i--) {
            instances[i].onAnswer(ctx, answer);
        }
        Buffer relayed = Buffer.buffer();
        for (String chunk : chunks) {
            relayed.appendBuffer(answer.chunk().apply(Buffer.buffer(chunk)));
        }
        relayed.appendBuffer(answer.tail().get());
        end(Ending.ANSWERED);
        return new Relayed(callerHeaders, relayed, answer.holdsWhole(), answer.rewrites());
    }

    /** The request ends without an answer, or its answer was cut. */
    public void end(Ending ending) {
        for (int i = instances.length - 1; i >= 0; i--) {
            await(instances[i].onEnd(ctx, ending));
        }
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("a phase did not complete: " + e, e);
        }
    }
}
