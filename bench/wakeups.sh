#!/usr/bin/env bash
# Who wakes an idle sidecar, per thread, and what idling costs beside two peers idling in the same window: CPU and
# context switches read from /proc/<pid>/task/* after the sidecar has idled a while (JIT settles over the first
# minutes). CPU is the scheduler's own count in nanoseconds (schedstat), not 10 ms ticks, and context switches count
# wake-ups exactly even on a noisy machine. The peers: BarePassThrough (test sources: the same Vert.x and JVM flags, no
# aigate) and nginx (one worker), each served one request like aigate. aigate starts through footprint.sh's HOLD mode,
# so its flags are the shipped ones (plus EXTRA_OPTS). Usage: bench/wakeups.sh [settle-seconds] [window-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SETTLE=${1:-60} WINDOW=${2:-60}
OUT=$(mktemp -d)
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests
source bench/lib.sh
need nginx nginx-light
PEER_BACKEND=18290 PEER_NGINX=18291 PEER_BARE=18292
cleanup() {
  [ -n "${BENCH:-}" ] && kill "$BENCH" 2>/dev/null || true
  [ -n "${BARE_PID:-}" ] && kill "$BARE_PID" 2>/dev/null || true
  [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
}
trap cleanup EXIT

nginx_conf nginx <<NGINX
  server { listen 127.0.0.1:$PEER_BACKEND; location / { return 200 'ok'; } }
  server { listen 127.0.0.1:$PEER_NGINX; location / { proxy_pass http://127.0.0.1:$PEER_BACKEND; } }
NGINX
nginx -c "$OUT/nginx.conf"
start_bare $PEER_BARE $PEER_BACKEND "$OUT/bare.log"
curl -sf -o /dev/null "http://127.0.0.1:$PEER_BARE/" && curl -sf -o /dev/null "http://127.0.0.1:$PEER_NGINX/"

VARIANTS=shipped HOLD=shipped HOLD_SECONDS=$((SETTLE + WINDOW + 20)) HOLD_PID_FILE="$OUT/pid" \
  timeout $((SETTLE + WINDOW + 180)) bash bench/footprint.sh 5 > "$OUT/footprint.log" 2>&1 &
BENCH=$!
until [ -s "$OUT/pid" ] && grep -q holding "$OUT/footprint.log"; do
  kill -0 "$BENCH" 2>/dev/null || { cat "$OUT/footprint.log"; exit 1; }
  sleep 1
done
PID=$(cat "$OUT/pid")
threads() { # pid...: one line per thread: tid name cpu-ns context-switches
  local p t
  for p in "$@"; do
    for t in /proc/"$p"/task/*; do
      printf '%s %s %s %s\n' "$(basename "$t")" "$(tr ' ' _ < "$t/comm")" "$(cut -d' ' -f1 "$t/schedstat")" \
        "$(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v + n}' "$t/status")"
    done
  done | sort
}
NGINX_PIDS="$(cat "$OUT/nginx.pid") $(pgrep -P "$(cat "$OUT/nginx.pid")" | tr '\n' ' ')"
snap() { threads "$PID" > "$OUT/aigate.$1"; threads "$BARE_PID" > "$OUT/bare.$1"; threads $NGINX_PIDS > "$OUT/nginx.$1"; }
per_thread() { # name: per-thread wake-ups and CPU a minute over the window, busiest first
  join "$OUT/$1.0" "$OUT/$1.1" | awk -v w="$WINDOW" '
    { d = $6 - $3; c = $7 - $4
      if (d > 0 || c > 0) printf "%6d wakes/min %8.1f ms/min %s\n", c * 60 / w, d / 1e6 * 60 / w, $2 }' | sort -rn
}
sleep "$SETTLE"; snap 0; sleep "$WINDOW"; snap 1
echo "window ${WINDOW}s after ${SETTLE}s idle; aigate RSS $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status") MB"
per_thread aigate | tee "$OUT/threads"
for who in aigate bare nginx; do
  per_thread $who | awk -v who=$who '{ c += $1; d += $3 } END { printf "%-7s %6d wakes/min %8.1f ms/min\n", who, c, d }'
done
kill "$PID"; PID=; wait "$BENCH" 2>/dev/null || true
