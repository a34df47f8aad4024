#!/usr/bin/env bash
# Who wakes an idle sidecar, per thread: CPU (utime+stime) and context switches over a window, read from
# /proc/<pid>/task/*, after the sidecar has idled a while (JIT settles over the first minutes). Context switches count
# wake-ups exactly even on a noisy machine, where CPU figures do not. Starts aigate through footprint.sh's HOLD mode,
# so the flags are the shipped ones (plus EXTRA_OPTS). Usage: bench/wakeups.sh [settle-seconds] [window-seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SETTLE=${1:-60} WINDOW=${2:-60}
OUT=$(mktemp -d)
VARIANTS=shipped HOLD=shipped HOLD_SECONDS=$((SETTLE + WINDOW + 20)) HOLD_PID_FILE="$OUT/pid" \
  timeout $((SETTLE + WINDOW + 120)) bash bench/footprint.sh 5 > "$OUT/footprint.log" 2>&1 &
BENCH=$!
until [ -s "$OUT/pid" ] && grep -q holding "$OUT/footprint.log"; do
  kill -0 "$BENCH" 2>/dev/null || { cat "$OUT/footprint.log"; exit 1; }
  sleep 1
done
PID=$(cat "$OUT/pid")
snap() {
  for t in /proc/"$PID"/task/*; do
    printf '%s %s %s %s\n' "$(basename "$t")" "$(tr ' ' _ < "$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")" \
      "$(awk '/^voluntary_ctxt/ {v=$2} /^nonvoluntary_ctxt/ {n=$2} END {print v + n}' "$t/status")"
  done | sort
}
sleep "$SETTLE"; snap > "$OUT/0"; sleep "$WINDOW"; snap > "$OUT/1"
HZ=$(getconf CLK_TCK)
echo "window ${WINDOW}s after ${SETTLE}s idle; RSS $(awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status") MB"
join "$OUT/0" "$OUT/1" | awk -v w="$WINDOW" -v hz="$HZ" '
  { d = $6 - $3; c = $7 - $4
    if (d > 0 || c > 0) printf "%6d wakes/min %6d ms/min %s\n", c * 60 / w, d * 1000 / hz * 60 / w, $2 }' \
  | sort -rn | tee "$OUT/threads"
awk '{ c += $1; d += $3 } END { printf "total  %d wakes/min, %d ms/min\n", c, d }' "$OUT/threads"
kill "$PID"; wait "$BENCH" 2>/dev/null || true
