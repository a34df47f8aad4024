package io.aigate.testing;

import io.aigate.sandbox.FakeAzureOpenAi;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Streams a test opens through aigate and keeps open, unread, so that each holds a backend connection: the fake is
 * slowed to one event a second (a stream lasts about 8 s). Closing them restores the fake's pace.
 */
public final class HeldStreams implements AutoCloseable {

    /** More than any event-loop count a test machine has. */
    private static final int MOST = 64;

    private final FakeAzureOpenAi fake;
    private final List<InputStream> held = new ArrayList<>();

    public HeldStreams(FakeAzureOpenAi fake) {
        this.fake = fake;
        fake.eventDelayMillis(1000);
    }

    /**
     * Opens streams to a deployment, one at a time, until one answers as {@code wanted} says.
     *
     * @return that answer (its body still to read), or null if none did within {@value #MOST}
     */
    public HttpResponse<InputStream> until(
            HttpClient http, URL base, String deployment, Predicate<HttpResponse<InputStream>> wanted)
            throws IOException, InterruptedException {
        for (int i = 0; i < MOST; i++) {
            HttpResponse<InputStream> response = http.send(
                    HttpRequest.newBuilder(URI.create(base.toString())
                                    .resolve("/openai/deployments/" + deployment + "/chat/completions"))
                            .header("Ocp-Apim-Subscription-Key", CloudDoubles.key)
                            .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            if (wanted.test(response)) {
                return response;
            }
            held.add(response.body());
        }
        return null;
    }

    /** The streams held so far, not counting the one {@link #until} returned. */
    public int size() {
        return held.size();
    }

    @Override
    public void close() throws IOException {
        fake.eventDelayMillis(0);
        for (InputStream stream : held) {
            stream.close();
        }
    }
}
