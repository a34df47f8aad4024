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

    /**
     * Keys and tokens are ASCII: they are hashed from a per-thread buffer instead of a fresh UTF-8 copy of each one.
     * Anything else takes the UTF-8 way, so two different texts never hash the same bytes.
     */
    private static final ThreadLocal<byte[]> ASCII = ThreadLocal.withInitial(() -> new byte[8192]);

    public static String hex(String text) {
        return hex(text, 0, text.length());
    }

    /** The hash of {@code text}'s characters from {@code from} to {@code to}, without cutting them out first. */
    public static String hex(String text, int from, int to) {
        MessageDigest digest = DIGEST.get();
        digest.reset();
        byte[] ascii = ASCII.get();
        int length = to - from;
        if (length <= ascii.length) {
            int i = 0;
            for (; i < length; i++) {
                char c = text.charAt(from + i);
                if (c > 0x7f) {
                    break;
                }
                ascii[i] = (byte) c;
            }
            if (i == length) {
                digest.update(ascii, 0, length);
                return HEX.formatHex(digest.digest());
            }
        }
        return HEX.formatHex(digest.digest(text.substring(from, to).getBytes(StandardCharsets.UTF_8)));
    }
}
