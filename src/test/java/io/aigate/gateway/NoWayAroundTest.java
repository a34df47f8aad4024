package io.aigate.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aigate.sandbox.FakeAzureOpenAi;
import io.aigate.testing.AigateTest;
import io.aigate.testing.Await;
import io.aigate.testing.CloudDoubles;
import io.aigate.testing.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A hostile caller against the real HTTP path, with a permissive {@code *} route beside a protected one: whatever aigate
 * judges is what the backend gets, or nothing reaches the backend at all.
 */
@QuarkusTest
@QuarkusTestResource(CloudDoubles.class)
@TestProfile(NoWayAroundTest.StarRoute.class)
class NoWayAroundTest extends AigateTest {

    /** The suite's routes plus a {@code *} route that is open (no JWT) and lists models. */
    public static class StarRoute implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "aigate.routes.rest.deployments",
                    "*",
                    "aigate.routes.rest.backend",
                    "aoai",
                    "aigate.routes.rest.operations",
                    "POST chat/completions,GET models",
                    "aigate.request.receive-timeout",
                    "2s",
                    "aigate.request.max-buffered-size",
                    "2M");
        }
    }

    HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        return request(method, path, "application/json", body, headers);
    }

    @Test
    void aV1BodyIsJudgedAsTheBackendReadsItOrNotAtAll() throws Exception {
        // first model for aigate, last for the backend: the classic route-confusion bypass
        for (String body : List.of(
                "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"model\":\"gpt-roles\"}",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":false,\"include_usage\":true}}",
                "{\"model\":\"gpt-4o-mini\"} {\"model\":\"gpt-roles\"}",
                "{\"model\":[\"gpt-roles\"]}",
                "{\"model\":null}",
                "{\"messages\":[]}",
                "[{\"model\":\"gpt-4o\"}]",
                "{\"model\":\"gpt-4o\",",
                "{\"model\":\"gpt-roles \"}",
                "{\"model\":\"gpt-roles\\u0000\"}",
                "{\"model\":\"gpt-4o\"/*c*/}",
                "")) {
            refused(send("POST", "/openai/v1/chat/completions", body), 400);
        }
        backendUntouched("an ambiguous body");
        // and what passes arrives as sent
        String ok = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        assertEquals(200, send("POST", "/openai/v1/chat/completions", ok).statusCode());
        assertEquals(ok, CloudDoubles.openAi.next(5).body());
    }

    /**
     * A key not yet cached is checked against Redis while the body is still on its way: the body waits for the
     * pipeline and arrives whole, however it was split.
     */
    @Test
    void aBodyArrivingWhileTheKeyIsLookedUpIsNotLost() throws Exception {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (int i = 0; i < 20; i++) {
            String key = io.aigate.testing.Keys.ok(CloudDoubles.redis.url(), "create", "--name", "split-" + i)
                    .key("Primary");
            try (Socket socket = new Socket("127.0.0.1", base.getPort())) {
                socket.setTcpNoDelay(true);
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /openai/deployments/gpt-4o/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                + "Content-Type: application/json\r\nOcp-Apim-Subscription-Key: " + key + "\r\n"
                                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                out.write(body.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertEquals(200, RawHttp.status(answer), answer);
            }
            assertEquals(body, CloudDoubles.openAi.next(5).body());
        }
    }

    @Test
    void fieldNamesThatCollideOnceDecodedOrFoldedAreRefused() throws Exception {
        for (String body : List.of(
                "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"Model\":\"gpt-roles\"}",
                "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"mod\\u0065l\":\"gpt-roles\"}")) {
            refused(send("POST", "/openai/v1/chat/completions", body), 400);
        }
        refused(
                send(
                        "POST",
                        "/openai/deployments/gpt-4o/chat/completions",
                        "{\"messages\":[],\"max_tokens\":1,\"MAX_TOKENS\":100000}"),
                400);
        backendUntouched("a body whose names collide");
    }

    @Test
    void aQueryParameterAigateDecidesOnMayAppearOnlyOnce() throws Exception {
        // aigate reads the first api-version (to decide on stream_options), a backend may read the last
        String chat = "/openai/deployments/gpt-4o/chat/completions";
        for (String query : List.of(
                "?api-version=2024-10-21&api-version=2024-02-01",
                "?api-version=2024-10-21&API-Version=2024-02-01",
                "?api-version=2024-10-21&api%2Dversion=2024-02-01",
                "?subscription-key=a&subscription-key=b",
                "?Subscription-Key=a&subscription%2dkey=b")) {
            refused(send("POST", chat + query, "{\"messages\":[]}"), 400);
        }
        backendUntouched("a query aigate and the backend could read differently");
        assertEquals(
                200,
                send("POST", chat + "?api-version=2024-10-21&foo=1&foo=2", "{\"messages\":[]}")
                        .statusCode(),
                "parameters aigate does not read are the backend's business");
        assertTrue(CloudDoubles.openAi.next(5).query().contains("foo=1&foo=2"));
    }

    @Test
    void deploymentNamesMatchWithoutCaseAndNothingElseIsANameAtAll() throws Exception {
        // gpt-roles demands a token with a role; the * route demands nothing. Case must not pick the * route.
        refused(send("POST", "/openai/deployments/GPT-ROLES/chat/completions", "{\"messages\":[]}"), 401);
        refused(send("POST", "/openai/v1/chat/completions", "{\"model\":\"GPT-Roles\",\"messages\":[]}"), 401);
        for (String target : List.of(
                "/openai/deployments/gpt-roles%20/chat/completions",
                "/openai/deployments/gpt-roles;v=1/chat/completions",
                "/openai/deployments/a/..;/gpt-roles",
                "/openai/deployments/gpt%2Droles/chat/completions",
                "/openai/deployments/gpt-roles./chat/completions",
                "/openai/deployments/-gpt-roles/chat/completions",
                "/openai/deployments/gpt-roles_/chat/completions")) {
            String response = RawHttp.exchange(
                    base.getPort(),
                    "POST " + target + " HTTP/1.1\r\nHost: x\r\n"
                            + "Ocp-Apim-Subscription-Key: " + CloudDoubles.key + "\r\nContent-Length: 2\r\n"
                            + "Connection: close\r\n\r\n{}");
            int status = RawHttp.status(response);
            assertTrue(status == 400 || status == 401, target + " -> " + response);
        }
        backendUntouched("a name in another case or with parameters");
        // an open deployment in upper case is the same open deployment
        assertEquals(
                200,
                send("POST", "/openai/deployments/GPT-4O-MINI/chat/completions", "{\"messages\":[]}")
                        .statusCode());
        assertNotNull(CloudDoubles.openAi.next(5));
    }

    @Test
    void operationsARouteDoesNotNameAre404WithoutBackendContact() throws Exception {
        for (String[] call : List.of(
                new String[] {"GET", "/openai/v1/files"},
                new String[] {"GET", "/openai/v1/files/file-1/content"},
                new String[] {"GET", "/openai/v1/chat/completions"},
                new String[] {"GET", "/openai/v1/chat/completions/chatcmpl-1"},
                new String[] {"GET", "/openai/v1/responses/resp_1"},
                new String[] {"GET", "/openai/v1/batches"},
                new String[] {"GET", "/openai/v1/vector_stores"},
                new String[] {"DELETE", "/openai/v1/files/file-1"},
                new String[] {"GET", "/openai/deployments/gpt-4o/models"},
                new String[] {"POST", "/openai/deployments/gpt-4o/extensions/chat/completions"})) {
            refused(send(call[0], call[1], null), 404);
        }
        refused(send("POST", "/openai/v1/batches", "{\"input_file_id\":\"file-1\"}"), 404);
        backendUntouched("an operation no route names");
        // the * route names the model list: that one passes
        HttpResponse<String> models = send("GET", "/openai/v1/models", null);
        assertEquals(200, models.statusCode(), models.body());
        assertEquals("/openai/v1/models", CloudDoubles.openAi.next(5).path());
    }

    @Test
    void numbersThatCannotBeJudgedAreRefused() throws Exception {
        for (String numbers : List.of(
                "\"max_completion_tokens\":6917529027641081856,\"n\":2",
                "\"max_tokens\":-1",
                "\"max_tokens\":1.5",
                "\"max_tokens\":\"100\"",
                "\"max_tokens\":1e3",
                "\"max_output_tokens\":2147483648",
                "\"n\":0",
                "\"n\":129",
                "\"n\":true",
                "\"best_of\":1000",
                "\"max_tokens\":100000000000000000000000000000000")) {
            refused(
                    send("POST", "/openai/deployments/gpt-4o/chat/completions", "{\"messages\":[]," + numbers + "}"),
                    400);
            refused(
                    send(
                            "POST",
                            "/openai/v1/chat/completions",
                            "{\"model\":\"gpt-4o\",\"messages\":[]," + numbers + "}"),
                    400);
        }
        backendUntouched("a body with absurd numbers");
        assertEquals(
                200,
                send(
                                "POST",
                                "/openai/deployments/gpt-4o/chat/completions",
                                "{\"messages\":[],\"max_tokens\":null,\"n\":1,\"max_completion_tokens\":2147483647}")
                        .statusCode());
        assertNotNull(CloudDoubles.openAi.next(5));
    }

    @Test
    void answersAreAskedForUncompressedSoTheirUsageCanBeRead() throws Exception {
        assertEquals(
                200,
                send(
                                "POST",
                                "/openai/deployments/gpt-4o/chat/completions",
                                "{\"messages\":[]}",
                                "Accept-Encoding",
                                "gzip, deflate, br")
                        .statusCode());
        FakeAzureOpenAi.Received got = CloudDoubles.openAi.next(5);
        assertEquals("identity", got.header("Accept-Encoding"));
    }

    /**
     * Hundreds of slow uploads without a key, each declaring a megabyte: on a classic path they are refused on their
     * headers without a body byte buffered; on v1 (whose route is in the body) they are held within the shared bound
     * (503 beyond it) and cut at the receive deadline (408). A real caller is served throughout.
     */
    @Test
    void slowUnauthenticatedUploadsCannotExhaustMemory() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Socket socket = new Socket("127.0.0.1", base.getPort());
                socket.setSoTimeout(10_000);
                String path =
                        i % 2 == 0 ? "/openai/deployments/gpt-4o/chat/completions" : "/openai/v1/chat/completions";
                OutputStream out = socket.getOutputStream();
                out.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 1048576\r\n\r\n{\"model\":\"gpt-4o\",\"messages\":\"")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(new byte[i % 2 == 0 ? 10 : 16 * 1024]); // the v1 ones hold 300 x 8 KB... over the 2 MB bound
                out.flush();
                sockets.add(socket);
            }
            HttpResponse<String> real = send(
                    "POST",
                    "/openai/deployments/gpt-4o/chat/completions",
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, real.statusCode(), real.body());
            assertEquals(FakeAzureOpenAi.completion("gpt-4o"), real.body());
            assertEquals(
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    CloudDoubles.openAi.next(5).body());

            int unauthorized = 0;
            int busy = 0;
            int timedOut = 0;
            for (int i = 0; i < sockets.size(); i++) {
                String answer = RawHttp.answer(sockets.get(i).getInputStream());
                int status = RawHttp.status(answer);
                if (i % 2 == 0) {
                    assertEquals(401, status, answer);
                    unauthorized++;
                } else {
                    assertTrue(status == 503 || status == 408, answer);
                    if (status == 503) {
                        busy++;
                        assertTrue(answer.toLowerCase().contains("retry-after: 1"), answer);
                    } else {
                        timedOut++;
                    }
                }
            }
            assertEquals(150, unauthorized);
            assertTrue(busy > 0, "the shared bound was reached: " + busy + " busy, " + timedOut + " timed out");
            assertTrue(timedOut > 0, "the held ones were cut at the deadline");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
        backendUntouched("an upload without a key");
        // every byte held was given back
        Await.until(
                "every buffered byte given back",
                Duration.ofSeconds(5),
                () -> metrics().lines().anyMatch("aigate_request_buffered_bytes 0.0"::equals));
    }

    static void chunk(OutputStream out, byte[] data) throws Exception {
        out.write((Integer.toHexString(data.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /**
     * A body refused while it arrives (over max-body-size) whose end arrives anyway must not be parsed after the
     * request gave its bytes back: that parse would take from the shared bound for good, and two such requests, with
     * no key at all (a v1 body is read before the key), would leave every later body a 503.
     */
    @Test
    void aRefusedBodyWhoseEndArrivesLaterTakesNothingMoreOfTheBound() throws Exception {
        StringBuilder json = new StringBuilder("{\"model\":\"gpt-4o\",\"a\":[");
        while (json.length() < 1_000_000) {
            json.append("[],");
        }
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            chunk(out, json.toString().getBytes(StandardCharsets.US_ASCII));
            chunk(out, new byte[100_000]); // over the 1 MB limit: refused now
            assertEquals(413, RawHttp.status(RawHttp.answer(socket.getInputStream())));
            try {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)); // the body's end, after its refusal
                out.flush();
            } catch (java.io.IOException closed) {
                // aigate may close first: then nothing late can arrive at all
            }
            // a stretch over which the late end must not be read (it was taken from the bound within milliseconds)
            Thread.sleep(1000);
        }
        Await.until(
                "every buffered byte given back, and none taken after",
                Duration.ofSeconds(5),
                () -> metrics().lines().anyMatch("aigate_request_buffered_bytes 0.0"::equals));
    }

    @Test
    void aBodyWhoseTreeIsManyTimesItsBytesIsRefusedBeforeItFillsTheHeap() throws Exception {
        StringBuilder body = new StringBuilder("{\"model\":\"gpt-4o-mini\",\"messages\":[],\"x\":[{}");
        while (body.length() < 900_000) {
            body.append(",{}");
        }
        body.append("]}");
        HttpResponse<String> refused = send("POST", "/openai/v1/chat/completions", body.toString());
        // within this profile's 2 MB shared bound the tree runs out of room first (503); alone, past 8 MB (413)
        org.junit.jupiter.api.Assertions.assertTrue(
                refused.statusCode() == 503 || refused.statusCode() == 413, refused.statusCode() + refused.body());
        refused(refused, refused.statusCode());
        backendUntouched("a body refused for its parsed size");
        assertEquals(
                200,
                send("POST", "/openai/v1/chat/completions", "{\"model\":\"gpt-4o-mini\",\"messages\":[]}")
                        .statusCode(),
                "what the refused tree took is given back");
    }
}
