package io.aigate.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoopbackTest {

    @Test
    void loopbackLiteralsAndTheNameLocalhost() {
        for (String url : List.of(
                "http://127.0.0.1:8080",
                "http://127.255.3.9/x",
                "http://localhost:1",
                "http://LOCALHOST",
                "http://[::1]:9000",
                "http://[0:0:0:0:0:0:0:1]/",
                "http://[::ffff:127.0.0.1]/")) {
            assertTrue(Loopback.url(url), url);
        }
    }

    /**
     * A prefix, a suffix or a look-alike is whatever its DNS says, and that is not the machine. Every value here is only
     * parsed (Loopback does no lookup, no I/O); the addresses outside loopback are from the ranges reserved for
     * documentation (RFC 5737, RFC 3849) and the names under {@code .example} (RFC 2606), which nothing routes or
     * resolves.
     */
    @Test
    void namesAndAddressesThatOnlyLookLikeLoopback() {
        for (String url : List.of(
                "http://127.evil.example",
                "http://127.0.0.1.evil.example/",
                "http://localhost.evil.example",
                "http://evil-localhost",
                "http://192.0.2.1",
                "http://0.0.0.0",
                "http://[::2]",
                "http://[::ffff:192.0.2.1]/",
                "http://[2001:db8::1%25eth0]/",
                "http://[::1%25lo]/",
                "http://127.0.0.1@evil.example/",
                "http://192.0.2.1@127.0.0.1.evil.example/",
                "not a url",
                "")) {
            assertFalse(Loopback.url(url), url);
        }
        assertFalse(Loopback.url(null));
        assertFalse(Loopback.host(null));
    }

    @Test
    void aPasswordInTheUrlIsSeenButNotRead() {
        assertTrue(Loopback.hasUserInfo("redis://u:secret@r.example:6379"));
        assertFalse(Loopback.hasUserInfo("redis://r.example:6379"));
    }

    @Test
    void aHostIsNamedWithoutItsUserOrPassword() {
        org.junit.jupiter.api.Assertions.assertEquals("r.example", Loopback.hostOf("redis://u:secret@r.example:6379"));
    }
}
