package io.aigate.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A machine without the Redis a test needs is told, in one sentence, what to install. */
class RedisOnPathTest {

    static final Path BINARY = Path.of("/usr/bin/redis-server");

    @Test
    void noRedisServerSaysWhatToInstall() {
        assertEquals(
                "This test needs redis-server 7 or newer on the PATH (ACL selectors) and finds none: install Redis 7 or "
                        + "newer (sudo apt-get install redis-server redis-tools) or run the tests with .ci/run.",
                RedisOnPath.problem(null, null, 7, "ACL selectors"));
    }

    @Test
    void anOlderRedisServerIsNamedWithItsVersion() {
        // what embedded-redis bundles, and what Ubuntu 22.04 installs
        assertEquals(
                "This test needs redis-server 7 or newer (ACL selectors) and finds 6.2 at /usr/bin/redis-server: install "
                        + "Redis 7 or newer (sudo apt-get install redis-server redis-tools) or run the tests with .ci/run.",
                RedisOnPath.problem(
                        BINARY,
                        "Redis server v=6.2.14 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64",
                        7,
                        "ACL selectors"));
    }

    @Test
    void anUnreadableVersionIsNotTakenForANewOne() {
        assertEquals(
                "This test needs redis-server 7 or newer (ACL selectors) and cannot read the version of "
                        + "/usr/bin/redis-server: install Redis 7 or newer (sudo apt-get install redis-server "
                        + "redis-tools) or run the tests with .ci/run.",
                RedisOnPath.problem(BINARY, "redis-server: cannot execute binary file", 7, "ACL selectors"));
    }

    @Test
    void redisSevenAndLaterPass() {
        assertNull(RedisOnPath.problem(BINARY, "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0", 7, "x"));
        assertNull(RedisOnPath.problem(BINARY, "Redis server v=8.2.1 sha=00000000:0", 7, "x"));
        assertEquals(
                "This test needs redis-server 8 or newer (x) and finds 7.0 at /usr/bin/redis-server: install Redis 8 or "
                        + "newer (sudo apt-get install redis-server redis-tools) or run the tests with .ci/run.",
                RedisOnPath.problem(BINARY, "Redis server v=7.0.15", 8, "x"));
    }
}
