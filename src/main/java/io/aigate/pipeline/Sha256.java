package io.aigate.pipeline;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lower-case hex: how keys and tokens are remembered without being kept. */
public final class Sha256 {

    private static final HexFormat HEX = HexFormat.of();

    /** One digest per thread: looking the algorithm up on every request costs more than the hash itself. */
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    });

    private Sha256() {}

    public static String hex(String text) {
        MessageDigest digest = DIGEST.get();
        digest.reset();
        return HEX.formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
