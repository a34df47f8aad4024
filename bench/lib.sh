# Sourced by every bench. First, the environment Dockerfile.jvm gives the JVM, read from that file so no bench measures
# flags the image does not run. JAVA_OPTS (not JAVA_OPTS_APPEND) because the image's run-java.sh puts its own defaults,
# -XX:+UseParallelGC among them, in front of JAVA_OPTS_APPEND, and the JVM refuses two collectors.
SHIPPED_JAVA_OPTS=$(sed -n 's/^ *JAVA_OPTS="\([^"]*\)".*/\1/p' Dockerfile.jvm)
[ -n "$SHIPPED_JAVA_OPTS" ] || { echo "no JAVA_OPTS in Dockerfile.jvm" >&2; exit 1; }
MALLOC_ARENA_MAX=$(sed -n 's/^ *MALLOC_ARENA_MAX=\([0-9]*\).*/\1/p' Dockerfile.jvm)
export MALLOC_ARENA_MAX
# The image then appends its AppCDS archive to JAVA_OPTS. The benches train theirs with the same script, with this
# machine's JVM (an archive only fits the JVM that wrote it), once per built jar: SHIPPED_JAVA_OPTS carries the flag,
# BASE_JAVA_OPTS does not (for another JVM, or to see what the archive buys).
BASE_JAVA_OPTS=$SHIPPED_JAVA_OPTS
shipped_archive() {
  local jar=target/quarkus-app/quarkus-run.jar archive=target/cds/aigate.jsa
  if [ ! -s "$archive" ] || [ "$jar" -nt "$archive" ]; then
    mkdir -p target/cds
    echo "training the AppCDS archive (deploy/image/cds-training.sh)" >&2
    JAVA_OPTS=$BASE_JAVA_OPTS CDS_TRAINING_PORT=18380 CDS_TRAINING_MANAGEMENT_PORT=18399 \
      bash deploy/image/cds-training.sh java "$jar" "$archive" >&2
  fi
  echo "-XX:SharedArchiveFile=$PWD/$archive"
}
if [ -f target/quarkus-app/quarkus-run.jar ]; then SHIPPED_JAVA_OPTS="$BASE_JAVA_OPTS $(shipped_archive)"; fi

# A tool a bench needs, installed from Debian when missing (a fresh machine has none of nginx, wrk, haproxy).
need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2"; apt-get install -y -qq "$2" >/dev/null; }; }
