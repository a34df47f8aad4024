package io.aigate.subscription;

import io.aigate.pipeline.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.zip.CRC32;

/**
 * Subscription keys: {@code aig_} + 256 random bits (base64url) + a CRC32 of them. The fixed prefix lets secret scanners
 * spot a leaked key; the checksum lets them (and aigate) tell a real key from noise without asking Redis. Redis only
 * ever holds {@link #hash(String)}: a stolen database yields no usable key.
 */
public final class SubscriptionKeys {

    public static final String PREFIX = "aig_";
    private static final int RANDOM_BYTES = 32;
    private static final int BODY_LENGTH = 43; // base64url of 32 bytes, unpadded
    private static final int LENGTH = PREFIX.length() + BODY_LENGTH + 8;
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();
    private static final HexFormat HEX = HexFormat.of();

    private SubscriptionKeys() {}

    public static String generate() {
        byte[] bytes = new byte[RANDOM_BYTES];
        random().nextBytes(bytes);
        String body = BASE64URL.encodeToString(bytes);
        return PREFIX + body + checksum(body);
    }

    /** A subscription id: {@code sub-} and ten characters no one misreads (no 0/o, 1/l). */
    public static String newId() {
        String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        StringBuilder id = new StringBuilder("sub-");
        SecureRandom random = random();
        for (int i = 0; i < 10; i++) {
            id.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return id.toString();
    }

    /**
     * A random source for secrets aigate makes (keys, ids, the budget secret): a new one each time, made at run time.
     * None is kept in a static field, which native-image would build into the image heap with the build machine's
     * seed; keys are made by the CLI, a few per command, so the cost of seeding is nothing.
     */
    public static SecureRandom random() {
        return new SecureRandom();
    }

    /** Shape and checksum only: true does not mean the key exists. */
    public static boolean wellFormed(String key) {
        if (key == null || key.length() != LENGTH || !key.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < PREFIX.length() + BODY_LENGTH; i++) {
            char c = key.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
                return false;
            }
        }
        String body = key.substring(PREFIX.length(), PREFIX.length() + BODY_LENGTH);
        return checksum(body).equals(key.substring(PREFIX.length() + BODY_LENGTH));
    }

    /** SHA-256 of the key, lower-case hex: the only form in which a key is stored or logged about. */
    public static String hash(String key) {
        return Sha256.hex(key);
    }

    private static String checksum(String body) {
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.US_ASCII));
        return HEX.toHexDigits((int) crc.getValue());
    }
}
