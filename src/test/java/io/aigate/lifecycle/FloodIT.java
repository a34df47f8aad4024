package io.aigate.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.sandbox.LocalRedis;
import io.aigate.testing.Await;
import io.aigate.testing.Keys;
import io.aigate.testing.PackagedAigate;
import io.aigate.testing.RawHttp;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Hundreds of slow uploads without a key, each declaring a megabyte, against the packaged sidecar with the heap
 * Dockerfile.jvm gives it (64 MB, exit on OutOfMemoryError): a real caller is served throughout and the process stays
 * up. On a classic path the uploads are refused on their headers; on v1 (route in the body) they are held within the
 * shared bound (503 beyond it) and cut at the receive deadline (408). Then a thousand connections whose headers never
 * end: held within the header-size and connection bounds, they cannot take the process down either.
 */
class FloodIT {

    static final HttpClient HTTP =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    LocalRedis redis;
    FakeAzureOpenAi openAi;
    PackagedAigate aigate;

    @AfterEach
    void stop() {
        if (aigate != null) {
            aigate.close();
        }
        if (openAi != null) {
            openAi.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void slowUnauthenticatedUploadsNeitherKillTheSidecarNorStarveARealCaller() throws Exception {
        redis = new LocalRedis(LocalRedis.freePort()).start();
        openAi = FakeAzureOpenAi.start(0);
        String key = Keys.ok(redis.url(), "create", "--name", "real").key("Primary");
        aigate = PackagedAigate.againstFakes(
                redis.url(),
                openAi.url(),
                Map.of("AIGATE_REQUEST_RECEIVE_TIMEOUT", "3s", "AIGATE_REQUEST_MAX_BUFFERED_SIZE", "4M"));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 400; i++) {
                Socket socket = new Socket("127.0.0.1", aigate.port());
                socket.setSoTimeout(15_000);
                String path =
                        i % 2 == 0 ? "/openai/deployments/gpt-4o/chat/completions" : "/openai/v1/chat/completions";
                OutputStream out = socket.getOutputStream();
                out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 1048576\r\n\r\n{\"model\":\"gpt-4o\",\"messages\":\"")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[i % 2 == 0 ? 10 : 48 * 1024]); // 200 x 48 KB: more than the 4 MB bound
                out.flush();
                sockets.add(socket);
            }
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> real = realCall(key);
                assertEquals(200, real.statusCode(), real.body());
            }
            long residentKb = aigate.residentKb();
            int unauthorized = 0;
            int busy = 0;
            int timedOut = 0;
            for (Socket socket : sockets) {
                int status = RawHttp.status(RawHttp.answer(socket.getInputStream()));
                unauthorized += status == 401 ? 1 : 0;
                busy += status == 503 ? 1 : 0;
                timedOut += status == 408 ? 1 : 0;
            }
            System.out.printf(
                    "flood: %d refused on their headers, %d busy, %d cut at the deadline; RSS %d MB%n",
                    unauthorized, busy, timedOut, residentKb / 1024);
            assertEquals(200, unauthorized, "every classic upload without a key is refused on its headers");
            assertEquals(200, busy + timedOut, "every v1 upload is refused (bound) or cut (deadline)");
            assertTrue(busy > 0 && timedOut > 0, busy + " busy, " + timedOut + " timed out");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        assertTrue(aigate.process().isAlive(), "the sidecar survived: " + aigate.output());
        assertFalse(aigate.output().contains("OutOfMemoryError"), aigate.output());
        assertEquals(200, aigate.status(aigate.managementUrl("/q/health/live")));

        // headers that never end: no deadline can be put on them, so their size and the connection count bound them
        int held = 0;
        sockets.clear();
        byte[] unfinished = ("POST /openai/deployments/gpt-4o/chat/completions HTTP/1.1\r\nHost: x\r\nX-Pad: "
                        + "a".repeat(39_000))
                .getBytes(StandardCharsets.ISO_8859_1);
        try {
            for (int i = 0; i < 1000; i++) {
                try {
                    Socket socket = new Socket("127.0.0.1", aigate.port());
                    sockets.add(socket);
                    socket.getOutputStream().write(unfinished);
                    socket.getOutputStream().flush();
                    held++;
                } catch (java.io.IOException refusedOrCut) {
                    // beyond the connection bound, or cut at the header bound: what the bounds are for
                }
            }
            // held, not awaited: the heap went within a second when headers could grow to 39 KB on 1,500 connections
            Thread.sleep(2000);
            assertTrue(aigate.process().isAlive(), held + " unfinished headers killed the sidecar: " + aigate.output());
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        Await.equal(
                "served again once the flood stops",
                Duration.ofSeconds(10),
                200,
                () -> realCall(key).statusCode());
        assertFalse(aigate.output().contains("OutOfMemoryError"), aigate.output());
    }

    private HttpResponse<String> realCall(String key) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(aigate.url("/openai/deployments/gpt-4o/chat/completions")))
                        .header("Content-Type", "application/json")
                        .header("Ocp-Apim-Subscription-Key", key)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
