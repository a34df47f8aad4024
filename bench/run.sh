#!/usr/bin/env bash
# Data-path benchmark: the same request, in one run, four ways —
#   direct    wrk -> nginx (a fast fake backend returning a fixed chat completion)
#   nginx     wrk -> nginx plain reverse proxy -> backend        (the peer: what any proxy costs)
#   aigate    wrk -> aigate (JVM, the flags we ship) -> backend  (subscription key checked, managed-identity token set,
#                                                                  usage read and counted)
#   limits    the same, with a subscription under a token limit (one Redis script call to admit, one to settle)
# and prints throughput, p50/p99 latency, the ratios, the latency of a stream, aigate's resident memory under
# load and its start-to-ready time.
# Loopback only. Usage: bench/run.sh [seconds-per-measurement] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-15}
CONNECTIONS=${2:-32}
WARMUP=${WARMUP:-20}
THREADS=${THREADS:-2}
BACKEND_PORT=18090 PROXY_PORT=18091 AIGATE_PORT=18080 AIGATE_MGMT=18099 REDIS_PORT=18079
# the JVM flags shipped in the image, read from Dockerfile.jvm (the one place they are written); override to experiment
SHIPPED_JAVA_OPTS=$(sed -n 's/.*JAVA_OPTS_APPEND="\([^"]*\)".*/\1/p' Dockerfile.jvm)
[ -n "$SHIPPED_JAVA_OPTS" ] || { echo "no JAVA_OPTS_APPEND in Dockerfile.jvm"; exit 1; }
AIGATE_JAVA_OPTS=${AIGATE_JAVA_OPTS:-$SHIPPED_JAVA_OPTS}
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}

need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2"; apt-get install -y -qq "$2" >/dev/null; }; }
need wrk wrk
need nginx nginx-light
need redis-server redis-server
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests

OUT=$(mktemp -d)
cleanup() {
  [ -n "${AIGATE_PID:-}" ] && { kill "$AIGATE_PID" 2>/dev/null; wait "$AIGATE_PID" 2>/dev/null; } || true
  [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
}
trap cleanup EXIT

COMPLETION='{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark backend."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}'
CHUNK='{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}'
USAGE='{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}'
STREAM="data: $CHUNK\n\ndata: $CHUNK\n\ndata: $CHUNK\n\ndata: $USAGE\n\ndata: [DONE]\n\n"
cat > "$OUT/nginx.conf" <<NGINX
worker_processes 1;
pid $OUT/nginx.pid;
error_log $OUT/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$BACKEND_PORT;
    location /msi/token {
      default_type application/json;
      return 200 '{"access_token":"bench-token","expires_on":"4102444800","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}';
    }
    location /openai/deployments/gpt-stream/ { default_type text/event-stream; return 200 '$STREAM'; }
    location / { default_type application/json; return 200 '$COMPLETION'; }
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer bench-token";
      proxy_buffering off;
    }
  }
}
NGINX
for port in $BACKEND_PORT $PROXY_PORT $AIGATE_PORT $AIGATE_MGMT $REDIS_PORT; do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is busy: stop what listens there"; exit 1; fi
done
nginx -c "$OUT/nginx.conf"
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no > "$OUT/redis.log" 2>&1 &
REDIS_PID=$!
until redis-cli -p $REDIS_PORT ping >/dev/null 2>&1; do sleep 0.05; done
# a subscription, created with the CLI that ships in the same artifact
primary_key() { sed -n 's/.*"primaryKey" *: *"\([^"]*\)".*/\1/p'; }
export AIGATE_KEY=$(java -jar target/quarkus-app/quarkus-run.jar keys --redis redis://127.0.0.1:$REDIS_PORT \
  --output json create --name bench | primary_key)
[ -n "$AIGATE_KEY" ] || { echo "could not create a subscription key"; exit 1; }
# one under a token limit too large to refuse anything: every request is admitted and settled in Redis
export AIGATE_LIMITED_KEY=$(java -jar target/quarkus-app/quarkus-run.jar keys --redis redis://127.0.0.1:$REDIS_PORT \
  --output json create --name bench-limited --tokens-per-minute 1000000000000 --token-quota 1000000000000000 \
  --token-quota-period Monthly | primary_key)
[ -n "$AIGATE_LIMITED_KEY" ] || { echo "could not create a limited subscription key"; exit 1; }

START_NS=$(date +%s%N)
AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:$BACKEND_PORT IDENTITY_ENDPOINT=http://127.0.0.1:$BACKEND_PORT/msi/token \
IDENTITY_HEADER=bench AIGATE_IDENTITY_ALLOW_IMDS=false AIGATE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT QUARKUS_HTTP_PORT=$AIGATE_PORT QUARKUS_MANAGEMENT_PORT=$AIGATE_MGMT \
  "${JAVA:-java}" $AIGATE_JAVA_OPTS -jar target/quarkus-app/quarkus-run.jar > "$OUT/aigate.log" 2>&1 &
AIGATE_PID=$!
until curl -sf -o /dev/null "http://127.0.0.1:$AIGATE_MGMT/q/health/ready"; do
  kill -0 "$AIGATE_PID" 2>/dev/null || { cat "$OUT/aigate.log"; exit 1; }
  sleep 0.02
done
READY_MS=$(( ($(date +%s%N) - START_NS) / 1000000 ))
RSS_IDLE=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$AIGATE_PID/status)

cat > "$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Ocp-Apim-Subscription-Key"] = os.getenv("AIGATE_KEY")
LUA
sed 's/AIGATE_KEY/AIGATE_LIMITED_KEY/' "$OUT/post.lua" > "$OUT/post-limited.lua"
TARGET=/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21

for port in $BACKEND_PORT $PROXY_PORT $AIGATE_PORT; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Ocp-Apim-Subscription-Key: $AIGATE_KEY" -d '{}' "http://127.0.0.1:$port$TARGET")
  [ "$code" = 200 ] || { echo "port $port answered $code"; cat "$OUT/aigate.log"; exit 1; }
done

echo "warming up aigate for ${WARMUP}s ..."
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$OUT/post.lua" "http://127.0.0.1:$AIGATE_PORT$TARGET" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$OUT/post.lua" "http://127.0.0.1:$PROXY_PORT$TARGET" >/dev/null

# wrk's latency lines read like "50%  210.00us"; print it in milliseconds
ms() { awk -v p="$1" '$1==p {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
measure() { # name port threads connections results-file [script]
  wrk -t"$3" -c"$4" -d"${DURATION}s" --latency -s "$OUT/${6:-post}.lua" "http://127.0.0.1:$2$TARGET" > "$OUT/$1-$5.txt"
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$OUT/$1-$5.txt")
  p50=$(ms 50% < "$OUT/$1-$5.txt"); p99=$(ms 99% < "$OUT/$1-$5.txt")
  errors=$(grep -E "Non-2xx|Socket errors" "$OUT/$1-$5.txt" | tr '\n' ' ' || true)
  echo "$1 $rps $p50 $p99 $errors" >> "$OUT/$5"
}
# throughput: enough connections to saturate the machine
measure direct $BACKEND_PORT "$THREADS" "$CONNECTIONS" results
measure nginx $PROXY_PORT "$THREADS" "$CONNECTIONS" results
measure aigate $AIGATE_PORT "$THREADS" "$CONNECTIONS" results
measure limits $AIGATE_PORT "$THREADS" "$CONNECTIONS" results post-limited
# added latency: one connection, so no request queues behind another and the difference is the hop itself
measure direct $BACKEND_PORT 1 1 latency
measure nginx $PROXY_PORT 1 1 latency
measure aigate $AIGATE_PORT 1 1 latency
measure limits $AIGATE_PORT 1 1 latency post-limited
RSS_LOAD=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$AIGATE_PID/status)

# streams: the caller did not ask for usage, so aigate asks for it, reads it and hides it again. The backend sends
# the whole stream at once, so a request's latency is its time to first byte plus a few microseconds.
sed 's/"max_tokens":16}/"max_tokens":16,"stream":true}/' "$OUT/post.lua" > "$OUT/stream.lua"
sed 's/"max_tokens":16}/"max_tokens":16,"stream":true}/' "$OUT/post-limited.lua" > "$OUT/stream-limited.lua"
STREAM_TARGET=/openai/deployments/gpt-stream/chat/completions?api-version=2024-10-21
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$OUT/stream-limited.lua" "http://127.0.0.1:$AIGATE_PORT$STREAM_TARGET" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$OUT/stream.lua" "http://127.0.0.1:$AIGATE_PORT$STREAM_TARGET" >/dev/null
TARGET=$STREAM_TARGET
measure direct $BACKEND_PORT 1 1 stream stream
measure nginx $PROXY_PORT 1 1 stream stream
measure aigate $AIGATE_PORT 1 1 stream stream
measure limits $AIGATE_PORT 1 1 stream stream-limited

table() {
  printf '%-8s %12s %10s %10s\n' target req/s p50_ms p99_ms
  while read -r name rps p50 p99 rest; do printf '%-8s %12s %10s %10s  %s\n' "$name" "$rps" "$p50" "$p99" "$rest"; done < "$1"
}
echo; echo "throughput (wrk -t$THREADS -c$CONNECTIONS):"; table "$OUT/results"
echo; echo "latency (wrk -t1 -c1):"; table "$OUT/latency"
read -r _ d_rps _ < <(grep '^direct ' "$OUT/results")
read -r _ n_rps _ < <(grep '^nginx ' "$OUT/results")
read -r _ a_rps _ < <(grep '^aigate ' "$OUT/results")
read -r _ _ d_p50 d_p99 _ < <(grep '^direct ' "$OUT/latency")
read -r _ _ n_p50 n_p99 _ < <(grep '^nginx ' "$OUT/latency")
read -r _ _ a_p50 a_p99 _ < <(grep '^aigate ' "$OUT/latency")
read -r _ l_rps _ < <(grep '^limits ' "$OUT/results")
read -r _ _ l_p50 _ < <(grep '^limits ' "$OUT/latency")
echo
awk -v a="$a_rps" -v n="$n_rps" -v d="$d_rps" -v ap="$a_p50" -v np="$n_p50" -v dp="$d_p50" -v a9="$a_p99" -v d9="$d_p99" -v n9="$n_p99" 'BEGIN {
  printf "throughput  aigate/nginx = %.2f   aigate/direct = %.2f   (target >= 0.6 x nginx)\n", a/n, a/d
  printf "added p50   aigate = %.3f ms   nginx = %.3f ms   (target <= 0.3 ms)\n", ap-dp, np-dp
  printf "added p99   aigate = %.3f ms   nginx = %.3f ms\n", a9-d9, n9-d9 }'
awk -v l="$l_rps" -v a="$a_rps" -v n="$n_rps" -v lp="$l_p50" -v ap="$a_p50" 'BEGIN {
  printf "token limit adds p50 %.3f ms (admission in Redis; settlement is off the answer path); throughput limits/nginx = %.2f\n", lp-ap, l/n }'
echo; echo "streams, time to first byte (wrk -t1 -c1):"; table "$OUT/stream"
echo "aigate RSS  idle ${RSS_IDLE} MB, peak under load ${RSS_LOAD} MB   (target <= 128 MB)"
echo "aigate start to ready: ${READY_MS} ms (JVM, java ${AIGATE_JAVA_OPTS})"
echo "${DURATION}s per measurement after ${WARMUP}s warm-up; $(nproc) cores shared by wrk, nginx and aigate; MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
