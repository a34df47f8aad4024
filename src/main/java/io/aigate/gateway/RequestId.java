package io.aigate.gateway;

import io.vertx.core.MultiMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The id a request is known by, end to end: the caller's {@code x-ms-client-request-id} (what Azure SDKs send), else
 * its {@code x-request-id}, else one aigate makes. It goes to the backend as {@code x-ms-client-request-id} (Azure
 * OpenAI logs it and sends it back), comes back to the caller under the same name, and is in the audit line. A
 * caller's id is taken only when it is a plain one (letters, digits, {@code - _ . :}, at most 128): anything else
 * could forge lines in a log, so the request gets a fresh id instead.
 */
final class RequestId {

    static final String CLIENT_HEADER = "x-ms-client-request-id";
    static final String GENERIC_HEADER = "x-request-id";
    private static final int MAX_LENGTH = 128;

    private RequestId() {}

    static String of(MultiMap headers) {
        String id = headers.get(CLIENT_HEADER);
        if (plain(id)) {
            return id;
        }
        id = headers.get(GENERIC_HEADER);
        return plain(id) ? id : generated();
    }

    /** A random UUID's form, from a fast source: an id to correlate by, not a secret. */
    static String generated() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // the IETF variant
        return new UUID(high, low).toString();
    }

    static boolean plain(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '_'
                    || c == '.'
                    || c == ':')) {
                return false;
            }
        }
        return true;
    }
}
