package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class Sha256Test {

    @ParameterizedTest
    @ValueSource(strings = {"", "aig_key", "é-is-not-ascii", "\u0169", "ends in \u00ff"})
    void isTheDigestOfTheUtf8Bytes(String text) throws Exception {
        assertEquals(reference(text), Sha256.hex(text));
        assertEquals(reference(text.repeat(1000)), Sha256.hex(text.repeat(1000))); // beyond the per-thread buffer
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0141", "\u0241", "\u0341"})
    void textsThatShareTheirLowBytesStillDiffer(String wide) {
        // U+0141 and 'A' (U+0041) have the same low byte: a copy that kept only low bytes would confuse them
        assertNotEquals(Sha256.hex("A"), Sha256.hex(wide));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Bearer eyJ.abc.def", "Bearer  é.x.y ", "x"})
    void aRangeHashesAsItsCopyWould(String header) throws Exception {
        for (int from = 0; from <= header.length(); from++) {
            for (int to = from; to <= header.length(); to++) {
                assertEquals(reference(header.substring(from, to)), Sha256.hex(header, from, to));
            }
        }
    }

    private static String reference(String text) throws Exception {
        return HexFormat.of()
                .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
