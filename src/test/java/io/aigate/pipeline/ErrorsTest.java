package io.aigate.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class ErrorsTest {

    @Test
    void theDeepestCauseOnOneShortLine() {
        assertEquals(
                "ConnectException: Connection refused",
                Errors.describe(new IllegalStateException("wrapper", new ConnectException("Connection refused"))));
        assertEquals("IllegalStateException", Errors.describe(new IllegalStateException()));
        assertEquals("IllegalArgumentException: first", Errors.describe(new IllegalArgumentException("first\nsecond")));
        String long_ = Errors.describe(new IllegalArgumentException("x".repeat(1000)));
        assertTrue(long_.length() < 340 && long_.endsWith("…"), long_);
    }
}
