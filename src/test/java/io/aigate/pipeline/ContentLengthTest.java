package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ContentLengthTest {

    @Test
    void aContentLengthIsPlainDigitsOrTooLarge() {
        assertEquals(-1, ContentLength.parse(null));
        assertEquals(0, ContentLength.parse("0"));
        assertEquals(1024, ContentLength.parse(" 1024 "));
        for (String lie : new String[] {"-1", "+5", "1,2", "0x10", "", "99999999999999999999", "1e3", "٣"}) {
            assertEquals(Long.MAX_VALUE, ContentLength.parse(lie), lie);
        }
        assertTrue(ContentLength.parse("999999999999999999") > 0);
        assertFalse(ContentLength.parse("12") == Long.MAX_VALUE);
    }
}
