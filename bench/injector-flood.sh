#!/usr/bin/env bash
# The injector under hostile AdmissionReviews, with the flags Dockerfile.jvm ships: any pod can reach its Service, so
# a flood of 3 MB reviews with wide container arrays, stalled senders and a connection flood must leave it up and
# answering. Prints the injector's peak RSS, how each kind was answered, and whether a real review and /healthz were
# still served during and after the flood.
# Usage: bench/injector-flood.sh [concurrent-senders] (default 24); needs openssl and curl; builds nothing (run
# ./mvnw package -DskipTests first).
set -euo pipefail
cd "$(dirname "$0")/.."
SENDERS=${1:-24}
JAR=${JAR:-target/quarkus-app/quarkus-run.jar}
[ -f "$JAR" ] || { echo "no $JAR: run ./mvnw package -DskipTests first"; exit 1; }
source bench/lib.sh
need openssl openssl
need curl curl
OUT=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$OUT"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
  -keyout "$OUT/tls.key" -out "$OUT/tls.crt" >/dev/null 2>&1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$IMAGE_JAVA" $SHIPPED_JAVA_OPTS -jar "$JAR" inject --image=ghcr.io/aigate/aigate:0.1.0 --tls-cert="$OUT/tls.crt" \
  --tls-key="$OUT/tls.key" --port="$PORT" > "$OUT/injector.log" 2>&1 &
PID=$!
URL=https://127.0.0.1:$PORT
for _ in $(seq 100); do curl -ksf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/VmRSS/{print int($2/1024)}' /proc/$PID/status 2>/dev/null || echo 0; }
echo "injector up, RSS $(rss) MB, flags: $SHIPPED_JAVA_OPTS"

# 2.9 MB: a pod with ~950,000 empty containers, and one with a few huge env values
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
head = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Pod"},"operation":"CREATE","namespace":"app","object":{"metadata":{"annotations":{"aigate.io/inject":"true"}},"spec":{"containers":['
wide = head + ",".join(["{}"] * 950_000) + ']}}}}'
open(out + "/wide.json", "w").write(wide)
env = [{"name": "V%d" % i, "value": "x" * 1000} for i in range(2800)]
deep = head + json.dumps({"name": "app", "image": "app:1", "env": env}) + ']}}}}'
open(out + "/long.json", "w").write(deep)
plain = head + '{"name":"app","image":"app:1"}]}}}}'
open(out + "/plain.json", "w").write(plain)
PY
ls -l "$OUT"/*.json | awk '{print "  " $5 " bytes " $9}'

peak=0
watch() { while kill -0 $PID 2>/dev/null; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$OUT/peak"; sleep 0.05; done; }
watch & WATCH=$!

send() { curl -ks -o /dev/null -w '%{http_code}\n' --max-time 20 -H 'Content-Type: application/json' \
  --data-binary @"$OUT/$1" "$URL/mutate"; }
export -f send; export OUT URL
# stalled senders: a declared body that never comes
for _ in $(seq 8); do
  (exec 3<>/dev/null; printf 'POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Length: 3000000\r\n\r\n{' \
     | timeout 15 openssl s_client -quiet -connect 127.0.0.1:"$PORT" >/dev/null 2>&1 || true) &
done
start=$(date +%s%N)
for round in 1 2 3; do
  seq "$SENDERS" | xargs -P "$SENDERS" -I{} bash -c 'send wide.json; send long.json' >> "$OUT/codes" &
done
sleep 1
# the kubelet and the API server come from addresses of their own (no address may hold more than a quarter of the
# connections): here 127.0.0.2, while every hostile sender is 127.0.0.1
during=$(curl -ks --interface 127.0.0.2 -o /dev/null -w '%{http_code} %{time_total}s' --max-time 10 "$URL/healthz" \
  || echo "000")
wait_flood() { while pgrep -f "xargs -P $SENDERS" >/dev/null; do sleep 0.2; done; }
wait_flood
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
after=$(curl -ks --interface 127.0.0.2 --max-time 10 -H 'Content-Type: application/json' --data-binary @"$OUT/plain.json" "$URL/mutate" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin)["response"]; print("allowed" if r["allowed"] else "refused", "patch" if "patch" in r else "")' 2>/dev/null || echo "no answer")
kill $WATCH 2>/dev/null || true
alive=$(kill -0 $PID 2>/dev/null && echo yes || echo NO)
echo "flood: $((SENDERS * 6)) hostile reviews + 8 stalled senders in ${elapsed} ms"
sort "$OUT/codes" | uniq -c | awk '{print "  " $1 " answered " $2}'
echo "healthz during the flood: $during"
echo "a real review after the flood: $after"
echo "injector alive: $alive; peak RSS $(cat "$OUT/peak" 2>/dev/null || echo ?) MB; RSS now $(rss) MB"
echo "OutOfMemoryError lines: $(grep -c OutOfMemory "$OUT/injector.log" || true)"
