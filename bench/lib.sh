# Sourced by every bench. First, the environment Dockerfile.jvm gives the JVM, read from that file so no bench measures
# flags the image does not run. JAVA_OPTS (not JAVA_OPTS_APPEND) because the image's run-java.sh puts its own defaults,
# -XX:+UseParallelGC among them, in front of JAVA_OPTS_APPEND, and the JVM refuses two collectors.
SHIPPED_JAVA_OPTS=$(sed -n 's/^ *JAVA_OPTS="\([^"]*\)".*/\1/p' Dockerfile.jvm)
[ -n "$SHIPPED_JAVA_OPTS" ] || { echo "no JAVA_OPTS in Dockerfile.jvm" >&2; exit 1; }
MALLOC_ARENA_MAX=$(sed -n 's/^ *MALLOC_ARENA_MAX=\([0-9]*\).*/\1/p' Dockerfile.jvm)
export MALLOC_ARENA_MAX
# The image's JVM (Dockerfile.jvm's FROM is JDK 25): every bench runs aigate and its bare floor on it. AIGATE_JAVA
# names one; else the first JDK 25 or later under /usr/lib/jvm, or `java` when it is one.
image_java() {
  local j
  for j in ${AIGATE_JAVA:-} /usr/lib/jvm/*/bin/java "$(command -v java)"; do
    [ -x "$j" ] && "$j" -XX:+PrintFlagsFinal -version 2>/dev/null | grep -qw AOTCacheOutput && { echo "$j"; return; }
    [ -n "${AIGATE_JAVA:-}" ] && break
  done
  echo "no JDK 25 or later (the image's JVM) here or in AIGATE_JAVA" >&2
  return 1
}
IMAGE_JAVA=$(image_java) || exit 1
# The image then appends its AOT cache to JAVA_OPTS. The benches train theirs with the same script, with this
# machine's JDK 25 (a cache only fits the JVM that wrote it), once per built jar: SHIPPED_JAVA_OPTS carries the flag,
# BASE_JAVA_OPTS does not (for another JVM, or to see what the cache buys).
BASE_JAVA_OPTS=$SHIPPED_JAVA_OPTS
shipped_cache() {
  local jar=target/quarkus-app/quarkus-run.jar cache=target/aot/aigate.aot stamp
  # retrained when the JVM, the flags or any file of the built application changed (a cache fits only its own)
  stamp=$({ "$IMAGE_JAVA" -version 2>&1; echo "$BASE_JAVA_OPTS"; find target/quarkus-app -type f -printf '%p %s %T@\n' \
    | sort; } | sha256sum | cut -c1-16)
  mkdir -p target/aot
  # one training at a time: a bench started beside another waits for its cache instead of writing over it
  exec 9> target/aot/lock
  flock -w 300 9 || { echo "another bench has held target/aot/lock for 5 minutes (a stray training? pkill -f aot-training)" >&2; return 1; }
  if [ ! -s "$cache" ] || [ "$(cat target/aot/stamp 2>/dev/null)" != "$stamp" ]; then
    rm -f target/aot/stamp
    echo "training the AOT cache (deploy/image/aot-training.sh)" >&2
    JAVA_OPTS=$BASE_JAVA_OPTS AOT_TRAINING_PORT=18380 AOT_TRAINING_MANAGEMENT_PORT=18399 \
      bash deploy/image/aot-training.sh "$IMAGE_JAVA" "$jar" "$cache" >&2 9>&- || return 1
    echo "$stamp" > target/aot/stamp
  fi
  flock -u 9
  # -XX:AOTMode=on: refuses to start, rather than run without it, when this JVM cannot map the cache
  # shellcheck disable=SC2086
  "$IMAGE_JAVA" $BASE_JAVA_OPTS -XX:AOTMode=on -XX:AOTCache="$cache" -jar "$jar" keys --help >/dev/null 2>&1 \
    || { echo "this JVM does not map $cache" >&2; return 1; }
  echo "-XX:AOTCache=$PWD/$cache"
}
if [ -f target/quarkus-app/quarkus-run.jar ]; then
  CACHE_FLAG=$(shipped_cache) || { echo "no AOT cache: a bench would not run the image's flags" >&2; exit 1; }
  SHIPPED_JAVA_OPTS="$BASE_JAVA_OPTS $CACHE_FLAG"
fi

# Nothing of this machine's environment may send a bench's aigate off loopback (a workload identity, an Azure
# authority, a proxy, an OTLP endpoint); each bench sets what it means inline. AIGATE_* stays: the benches' own knobs.
unset $(compgen -e | grep -E '^(AZURE_|IDENTITY_|MSI_|OTEL_|QUARKUS_)|_PROXY$|_proxy$|^JAVA_TOOL_OPTIONS$|^JDK_JAVA_OPTIONS$') 2>/dev/null || true

# The floor a bench sets aigate beside: BarePassThrough (test sources), the same Vert.x and JVM flags (not aigate's
# AOT cache: it fits its jar only), as many event loops as aigate's (2 per core), nothing else.
# start_bare port backend-port log: starts it, waits until it listens, sets BARE_PID.
start_bare() {
  ./mvnw -B -q test-compile
  ./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
  # shellcheck disable=SC2086
  "$IMAGE_JAVA" $BASE_JAVA_OPTS -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
    io.aigate.bench.BarePassThrough "$1" "$2" > "$3" 2>&1 &
  BARE_PID=$!
  until grep -q "bare pass-through on" "$3" 2>/dev/null; do
    kill -0 "$BARE_PID" 2>/dev/null || { cat "$3"; exit 1; }
    sleep 0.05
  done
}

# nginx_conf name: writes $OUT/<name>.conf for one nginx worker with its own pid and error log in $OUT, the http
# block's contents from stdin. nginx closes a client connection after 1,000 requests by default: autocannon, at a
# fixed rate, then queues behind the reconnect and reports ~300 ms medians that are nginx's default, not its speed.
nginx_conf() {
  { printf 'worker_processes 1;\npid %s/%s.pid;\nerror_log %s/%s-error.log warn;\n' "$OUT" "$1" "$OUT" "$1"
    printf 'events { worker_connections 4096; }\nhttp {\n  access_log off;\n  keepalive_requests 1000000;\n'
    cat; printf '}\n'; } > "$OUT/$1.conf"
}

# A tool a bench needs, installed from Debian when missing (a fresh machine has none of nginx, wrk, haproxy).
need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2"; apt-get install -y -qq "$2" >/dev/null; }; }

# cpu_quota cores: prints the tasks file of a CPU cgroup capped at that many cores (as a pod's CPU limit caps its
# container: CFS quota over a 100 ms period), cgroup v2 or v1; a process that writes its pid there runs under it.
cpu_quota() {
  local quota dir
  quota=$(awk -v c="$1" 'BEGIN { printf "%d", c * 100000 }')
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    dir=/sys/fs/cgroup/aigate-bench
    { grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu > /sys/fs/cgroup/cgroup.subtree_control; } \
      && mkdir -p "$dir" && echo "$quota 100000" > "$dir/cpu.max"
  else
    dir=/sys/fs/cgroup/cpu/aigate-bench
    mkdir -p "$dir" && echo 100000 > "$dir/cpu.cfs_period_us" && echo "$quota" > "$dir/cpu.cfs_quota_us"
  fi || { echo "cannot make a CPU cgroup under /sys/fs/cgroup (CPU_LIMIT needs root)" >&2; return 1; }
  echo "$dir/cgroup.procs"
}
