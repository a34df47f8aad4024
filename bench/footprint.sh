#!/usr/bin/env bash
# What one sidecar costs its pod while the pod is quiet, per JVM variant, in one run: start to ready, resident memory
# after one request and after idling, CPU burnt while idle (utime+stime from /proc), and threads. Every variant runs
# the same jar against the same loopback backend (nginx) and Redis, with the flags Dockerfile.jvm ships plus the
# variant's own. Usage: bench/footprint.sh [idle-seconds] (default 60); VARIANTS="shipped nocache c1 jdk17 g1" to pick;
# EXTRA_OPTS="-Xlog:class+load:file=/tmp/classes.txt" adds flags to every variant (to see what a sidecar loads);
# variant g1 swaps the collector for G1, with G1_OPTS (e.g. "-XX:G1PeriodicGCInterval=30000") on top.
# CPU_LIMIT=1 runs each sidecar under a CFS quota of that many cores, as the injector's default limit caps it in a pod
# (the JVM then sizes itself for one CPU, as it would there); needs root for a cgroup.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${1:-60}
JAR=target/quarkus-app/quarkus-run.jar
[ -f "$JAR" ] || ./mvnw -B -q package -DskipTests
source bench/lib.sh
need nginx nginx-light
need redis-server redis-server
VARIANTS=${VARIANTS:-"shipped nocache c1 jdk17"}
BACKEND_PORT=18190 AIGATE_PORT=18180 AIGATE_MGMT=18199 REDIS_PORT=18179
OUT=$(mktemp -d)
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
  [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
}
trap cleanup EXIT

COMPLETION='{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}'
nginx_conf nginx <<NGINX
  server {
    listen 127.0.0.1:$BACKEND_PORT;
    location /msi/token {
      default_type application/json;
      return 200 '{"access_token":"t","expires_on":"4102444800","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}';
    }
    location / { default_type application/json; return 200 '$COMPLETION'; }
  }
NGINX
nginx -c "$OUT/nginx.conf"
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no > "$OUT/redis.log" 2>&1 &
REDIS_PID=$!
until redis-cli -p $REDIS_PORT ping >/dev/null 2>&1; do sleep 0.05; done
KEY=$(java -jar "$JAR" keys --redis redis://127.0.0.1:$REDIS_PORT --output json create --name footprint \
  | sed -n 's/.*"primaryKey" *: *"\([^"]*\)".*/\1/p')

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$1/status"; }
# anonymous (the pod's own) and file-backed (the jars, the JDK, the AOT cache: page cache the pods of a node share)
rss_split() { awk '/RssAnon/ {a = int($2/1024)} /RssFile/ {f = int($2/1024)} END {print a "/" f}' "/proc/$1/status"; }
threads() { awk '/Threads/ {print $2}' "/proc/$1/status"; }

LAUNCH=()
if [ -n "${CPU_LIMIT:-}" ]; then
  PROCS=$(cpu_quota "$CPU_LIMIT")
  # shellcheck disable=SC2016 # $$ and $@ are the inner shell's: it joins the cgroup, then becomes the JVM
  LAUNCH=(bash -c 'echo $$ > "$0" && exec "$@"' "$PROCS")
fi
run() { # java opts...: starts aigate, sets PID and READY_MS
  local java=$1; shift
  local start; start=$(date +%s%N)
  AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:$BACKEND_PORT IDENTITY_ENDPOINT=http://127.0.0.1:$BACKEND_PORT/msi/token \
  IDENTITY_HEADER=f AIGATE_IDENTITY_ALLOW_IMDS=false AIGATE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT \
  QUARKUS_HTTP_PORT=$AIGATE_PORT QUARKUS_MANAGEMENT_PORT=$AIGATE_MGMT \
    "${LAUNCH[@]}" "$java" "$@" -jar "$JAR" > "$OUT/aigate.log" 2>&1 &
  PID=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$AIGATE_MGMT/q/health/ready"; do
    kill -0 "$PID" 2>/dev/null || { tail -20 "$OUT/aigate.log"; exit 1; }
    sleep 0.01
  done
  READY_MS=$(( ($(date +%s%N) - start) / 1000000 ))
}
request() {
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$AIGATE_PORT/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21" \
    -H "Ocp-Apim-Subscription-Key: $KEY" -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"hi"}]}'
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

HZ=$(getconf CLK_TCK)
printf '%-12s %9s %13s %13s %14s %16s %8s\n' variant ready_ms rss_1req_MB rss_idle_MB anon/file_MB idle_cpu_ms/min threads
[ -n "${HOLD:-}" ] && VARIANTS=$HOLD
for v in $VARIANTS; do
  java=$IMAGE_JAVA; opts=$SHIPPED_JAVA_OPTS
  case $v in
    shipped) ;;
    c1) opts="$SHIPPED_JAVA_OPTS -XX:TieredStopAtLevel=1" ;;
    nocache) opts=$BASE_JAVA_OPTS ;; # what the image's AOT cache buys
    # the JVM the image ran on before (JDK 17 writes no usable archive for the aot-jar layout: docs/benchmarks.md)
    jdk17) java=${JDK17:-java}; opts=$BASE_JAVA_OPTS ;;
    g1) opts="${SHIPPED_JAVA_OPTS/-XX:+UseSerialGC/-XX:+UseG1GC} ${G1_OPTS:-}" ;;
    *) echo "unknown variant $v"; continue ;;
  esac
  opts="$opts ${EXTRA_OPTS:-}"
  # shellcheck disable=SC2086
  run "$java" $opts
  code=$(request)
  [ "$code" = 200 ] || { echo "$v: the request got $code"; tail -5 "$OUT/aigate.log"; }
  sleep 5
  one=$(rss "$PID")
  [ -n "${HOLD:-}" ] && { echo "holding $v as pid $PID"; echo "$PID" > "${HOLD_PID_FILE:-/tmp/aigate.pid}"; sleep "${HOLD_SECONDS:-120}"; }
  t0=$(ticks "$PID"); sleep "$IDLE"; t1=$(ticks "$PID")
  cpu=$(( (t1 - t0) * 1000 / HZ * 60 / IDLE ))
  printf '%-12s %9s %13s %13s %14s %16s %8s\n' "$v" "$READY_MS" "$one" "$(rss "$PID")" "$(rss_split "$PID")" "$cpu" \
    "$(threads "$PID")"
  stop
done
echo "flags: $SHIPPED_JAVA_OPTS${CPU_LIMIT:+ (under a quota of $CPU_LIMIT CPU)}"
