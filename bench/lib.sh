# Sourced by every bench. First, the environment Dockerfile.jvm gives the JVM, read from that file so no bench measures
# flags the image does not run. JAVA_OPTS (not JAVA_OPTS_APPEND) because the image's run-java.sh puts its own defaults,
# -XX:+UseParallelGC among them, in front of JAVA_OPTS_APPEND, and the JVM refuses two collectors.
SHIPPED_JAVA_OPTS=$(sed -n 's/^ *JAVA_OPTS="\([^"]*\)".*/\1/p' Dockerfile.jvm)
[ -n "$SHIPPED_JAVA_OPTS" ] || { echo "no JAVA_OPTS in Dockerfile.jvm" >&2; exit 1; }
MALLOC_ARENA_MAX=$(sed -n 's/^ *MALLOC_ARENA_MAX=\([0-9]*\).*/\1/p' Dockerfile.jvm)
export MALLOC_ARENA_MAX

# A tool a bench needs, installed from Debian when missing (a fresh machine has none of nginx, wrk, haproxy).
need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2"; apt-get install -y -qq "$2" >/dev/null; }; }
