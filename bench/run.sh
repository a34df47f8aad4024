#!/usr/bin/env bash
# Data-path benchmark: the same request, in one run, five ways —
#   direct    -> nginx (a fast fake backend returning a fixed chat completion)
#   nginx     -> nginx plain reverse proxy -> backend             (what any proxy costs)
#   haproxy   -> HAProxy checking the subscription key against a map and verifying the RS256 token's signature,
#                issuer, audience and lifetime on every request, setting its own credential -> backend
#                                                                 (a peer a user would pick for keys and JWT)
#   aigate    -> aigate (JVM, the flags we ship) -> backend       (all three layers: key cached, token seen before,
#                                                                  managed-identity token cached; usage read, counted)
#   bare      -> a pass-through proxy on the same Vert.x build, no layer, no policy (BarePassThrough, test sources)
#                                                                 (aigate's floor: the difference is aigate's own work)
#   limits    the same, with a subscription under a token limit (one Redis script call per request: it admits, and
#             carries the settlements of the requests before it)
# and prints saturation throughput, p50/p99 latency, a fixed-rate table (CPU per 1,000 requests from /proc for each
# proxy's own processes, p50/p99 at a realistic rate), aigate's allocation per request, its resident memory under
# load and its start-to-ready time.
# Loopback only. Usage: bench/run.sh [seconds-per-measurement] [connections]
# TRACES=1 runs aigate with tracing on: every span exported over OTLP (http/protobuf) to the backend nginx, which
# answers 200 — the cost of making and exporting the spans, against the same run's peers.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-15}
CONNECTIONS=${2:-32}
WARMUP=${WARMUP:-20}
THREADS=${THREADS:-2}
export RATE=${RATE:-1000}
RATE_SECONDS=${RATE_SECONDS:-20}
BACKEND_PORT=18090 PROXY_PORT=18091 HAPROXY_PORT=18092 AIGATE_PORT=18080 AIGATE_MGMT=18099 REDIS_PORT=18079 BARE_PORT=18093
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests
# the JVM flags shipped in the image, read from Dockerfile.jvm (the one place they are written); override to experiment
source bench/lib.sh
AIGATE_JAVA_OPTS=${AIGATE_JAVA_OPTS:-$SHIPPED_JAVA_OPTS}

need wrk wrk
need nginx nginx-light
need haproxy haproxy
need redis-server redis-server
need openssl openssl
command -v autocannon >/dev/null 2>&1 || { echo "installing autocannon"; npm install -g -s autocannon >/dev/null; }

OUT=$(mktemp -d)
cleanup() {
  [ -n "${AIGATE_PID:-}" ] && { kill "$AIGATE_PID" 2>/dev/null; wait "$AIGATE_PID" 2>/dev/null; } || true
  [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
  [ -f "$OUT/proxy.pid" ] && kill "$(cat "$OUT/proxy.pid")" 2>/dev/null || true
  [ -f "$OUT/haproxy.pid" ] && kill "$(cat "$OUT/haproxy.pid")" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  [ -n "${BARE_PID:-}" ] && kill "$BARE_PID" 2>/dev/null || true
}
trap cleanup EXIT

COMPLETION='{"id":"chatcmpl-bench","object":"chat.completion","created":1764000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the benchmark backend."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}}'
CHUNK='{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}'
USAGE='{"id":"chatcmpl-bench","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}'
STREAM="data: $CHUNK\n\ndata: $CHUNK\n\ndata: $CHUNK\n\ndata: $USAGE\n\ndata: [DONE]\n\n"
# the callers' Entra tokens: an RSA key of the bench's own, its JWKS (served by the backend nginx, as Entra would) and
# one RS256 token that aigate and HAProxy both verify
openssl genrsa -out "$OUT/jwt-key.pem" 2048 2>/dev/null
openssl rsa -in "$OUT/jwt-key.pem" -pubout -out "$OUT/jwt-pub.pem" 2>/dev/null
ISSUER=https://login.bench/tenant/v2.0 AUDIENCE=api://aigate-bench
python3 - "$OUT" "$ISSUER" "$AUDIENCE" <<'PY'
import base64, json, subprocess, sys, time
out, issuer, audience = sys.argv[1:4]
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
modulus = subprocess.run(['openssl', 'rsa', '-in', out + '/jwt-key.pem', '-noout', '-modulus'],
                         capture_output=True, text=True, check=True).stdout.strip().split('=')[1]
n = int(modulus, 16).to_bytes((int(modulus, 16).bit_length() + 7) // 8, 'big')
open(out + '/jwks.json', 'w').write(json.dumps({'keys': [{'kty': 'RSA', 'use': 'sig', 'kid': 'bench', 'alg': 'RS256',
                                                         'n': b64u(n), 'e': 'AQAB'}]}))
now = int(time.time())
signed = b64u(json.dumps({'alg': 'RS256', 'typ': 'JWT', 'kid': 'bench'}).encode()) + '.' + b64u(json.dumps(
    {'iss': issuer, 'aud': audience, 'azp': 'bench-app', 'sub': 'bench', 'iat': now, 'nbf': now - 60,
     'exp': now + 6 * 3600}).encode())
signature = subprocess.run(['openssl', 'dgst', '-sha256', '-sign', out + '/jwt-key.pem'], input=signed.encode(),
                           capture_output=True, check=True).stdout
open(out + '/token', 'w').write(signed + '.' + b64u(signature))
PY
export AIGATE_TOKEN=$(cat "$OUT/token")
JWKS=$(cat "$OUT/jwks.json")

# the backend and the nginx peer are two nginx processes, so each one's CPU can be read on its own (nginx_conf: lib.sh)
nginx_conf nginx <<NGINX
  server {
    listen 127.0.0.1:$BACKEND_PORT;
    location /msi/token {
      default_type application/json;
      return 200 '{"access_token":"bench-token","expires_on":"4102444800","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}';
    }
    location = /keys { default_type application/json; return 200 '$JWKS'; }
    location = /v1/traces { default_type application/x-protobuf; return 200 ''; }
    location /openai/deployments/gpt-stream/ { default_type text/event-stream; return 200 '$STREAM'; }
    location / { default_type application/json; return 200 '$COMPLETION'; }
  }
NGINX
nginx_conf proxy <<NGINX
  upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
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
NGINX
for port in $BACKEND_PORT $PROXY_PORT $HAPROXY_PORT $AIGATE_PORT $AIGATE_MGMT $REDIS_PORT $BARE_PORT; do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then echo "port $port is busy: stop what listens there"; exit 1; fi
done
nginx -c "$OUT/nginx.conf"
nginx -c "$OUT/proxy.conf"
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

# the HAProxy peer: the same keys in a map, the same token verified (signature, issuer, audience, lifetime) on every
# request, its own credential set toward the backend
printf '%s bench\n%s bench-limited\n' "$AIGATE_KEY" "$AIGATE_LIMITED_KEY" > "$OUT/keys.map"
cat > "$OUT/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 4096
  pidfile $OUT/haproxy.pid
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend gate
  bind 127.0.0.1:$HAPROXY_PORT
  http-request deny deny_status 401 unless { req.hdr(Ocp-Apim-Subscription-Key),map($OUT/keys.map) -m found }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('\$.alg')
  http-request deny deny_status 401 unless { var(txn.alg) -m str RS256 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"$OUT/jwt-pub.pem") -m int 1 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.iss') -m str "$ISSUER" }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.aud') -m str "$AUDIENCE" }
  http-request set-var(txn.now) date()
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('\$.exp','int')
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
  http-request del-header Ocp-Apim-Subscription-Key
  http-request set-header Authorization "Bearer bench-token"
  default_backend aoai
backend aoai
  http-reuse always
  server backend 127.0.0.1:$BACKEND_PORT
HAPROXY
haproxy -q -f "$OUT/haproxy.cfg" -D

start_bare $BARE_PORT $BACKEND_PORT "$OUT/bare.log" # the floor (bench/lib.sh)

START_NS=$(date +%s%N)
AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:$BACKEND_PORT IDENTITY_ENDPOINT=http://127.0.0.1:$BACKEND_PORT/msi/token \
IDENTITY_HEADER=bench AIGATE_IDENTITY_ALLOW_IMDS=false \
AIGATE_JWT_ENABLED=true AIGATE_JWT_JWKS_URI=http://127.0.0.1:$BACKEND_PORT/keys AIGATE_JWT_ISSUERS=$ISSUER \
AIGATE_JWT_AUDIENCES=$AUDIENCE AIGATE_ROUTES_DEFAULT_VALIDATE_JWT=true AIGATE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT QUARKUS_HTTP_PORT=$AIGATE_PORT QUARKUS_MANAGEMENT_PORT=$AIGATE_MGMT \
  env ${TRACES:+QUARKUS_OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:$BACKEND_PORT} \
  ${TRACES:+QUARKUS_OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf} \
  "$IMAGE_JAVA" $AIGATE_JAVA_OPTS -jar target/quarkus-app/quarkus-run.jar > "$OUT/aigate.log" 2>&1 &
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
wrk.headers["Authorization"] = "Bearer " .. os.getenv("AIGATE_TOKEN")
LUA
sed 's/AIGATE_KEY/AIGATE_LIMITED_KEY/' "$OUT/post.lua" > "$OUT/post-limited.lua"
TARGET=/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21

for port in $BACKEND_PORT $PROXY_PORT $HAPROXY_PORT $AIGATE_PORT $BARE_PORT; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Ocp-Apim-Subscription-Key: $AIGATE_KEY" -H "Authorization: Bearer $AIGATE_TOKEN" -d '{}' \
    "http://127.0.0.1:$port$TARGET")
  [ "$code" = 200 ] || { echo "port $port answered $code"; cat "$OUT/aigate.log"; exit 1; }
done

echo "warming up aigate for ${WARMUP}s, and its token-limit path for half as long ..."
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$OUT/post.lua" "http://127.0.0.1:$AIGATE_PORT$TARGET" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$((WARMUP / 2))s" -s "$OUT/post-limited.lua" "http://127.0.0.1:$AIGATE_PORT$TARGET" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$OUT/post.lua" "http://127.0.0.1:$PROXY_PORT$TARGET" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$OUT/post.lua" "http://127.0.0.1:$BARE_PORT$TARGET" >/dev/null

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
measure haproxy $HAPROXY_PORT "$THREADS" "$CONNECTIONS" results
measure bare $BARE_PORT "$THREADS" "$CONNECTIONS" results
measure aigate $AIGATE_PORT "$THREADS" "$CONNECTIONS" results
measure limits $AIGATE_PORT "$THREADS" "$CONNECTIONS" results post-limited
# added latency: one connection, so no request queues behind another and the difference is the hop itself
measure direct $BACKEND_PORT 1 1 latency
measure nginx $PROXY_PORT 1 1 latency
measure haproxy $HAPROXY_PORT 1 1 latency
measure bare $BARE_PORT 1 1 latency
measure aigate $AIGATE_PORT 1 1 latency
measure limits $AIGATE_PORT 1 1 latency post-limited
RSS_LOAD=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$AIGATE_PID/status)

# a fixed, realistic rate: what each proxy's own processes spend per request (user + system CPU from /proc), and the
# tail a caller sees when nothing queues. A sidecar pays this in every pod, whatever its peak.
cpu_ticks() { for pid in "$@"; do awk '{print $14 + $15}' "/proc/$pid/stat"; done | awk '{t += $1} END {print t}'; }
BODY='{"messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'
at_rate() { # name port key pids...
  local name=$1 port=$2 key=$3; shift 3
  local before; before=$(cpu_ticks "$@")
  autocannon -R "$RATE" -c 16 -d "$RATE_SECONDS" -j -m POST -H Content-Type=application/json \
    -H "Ocp-Apim-Subscription-Key=$key" -H "Authorization=Bearer $AIGATE_TOKEN" -b "$BODY" \
    "http://127.0.0.1:$port$TARGET" > "$OUT/$name-rate.json" 2>/dev/null
  local after; after=$(cpu_ticks "$@")
  python3 - "$name" "$OUT/$name-rate.json" "$((after - before))" "$(getconf CLK_TCK)" >> "$OUT/rate" <<'PY'
import json, sys
name, path, ticks, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
r = json.load(open(path))
ok = r['requests']['total'] - r.get('non2xx', 0) - r.get('errors', 0)
print(name, r['requests']['total'], f"{ticks * 1000 / hz / max(1, r['requests']['total']) * 1000:.0f}",
      f"{r['latency']['p50']:.2f}", f"{r['latency']['p99']:.2f}", r.get('non2xx', 0) + r.get('errors', 0))
PY
}
# the JIT is still compiling this path after the saturation runs: a pod's cost is its steady state, so aigate first
# runs the same rate unmeasured (the compiler threads' CPU is counted while they still work); the peers get a shorter
# unmeasured run too, so every proxy is measured on connections that are already open at both ends
warm_at_rate() { # port key seconds
  autocannon -R "$RATE" -c 16 -d "$3" -m POST -H Content-Type=application/json \
    -H "Ocp-Apim-Subscription-Key=$2" -H "Authorization=Bearer $AIGATE_TOKEN" -b "$BODY" \
    "http://127.0.0.1:$1$TARGET" > /dev/null 2>&1
}
warm_at_rate $AIGATE_PORT "$AIGATE_KEY" "$RATE_SECONDS"
warm_at_rate $AIGATE_PORT "$AIGATE_LIMITED_KEY" "$RATE_SECONDS"
warm_at_rate $PROXY_PORT "$AIGATE_KEY" 5
warm_at_rate $HAPROXY_PORT "$AIGATE_KEY" 5
warm_at_rate $BARE_PORT "$AIGATE_KEY" "$RATE_SECONDS"
NGINX_PIDS="$(cat "$OUT/proxy.pid") $(pgrep -P "$(cat "$OUT/proxy.pid")" | tr '\n' ' ')"
at_rate nginx $PROXY_PORT "$AIGATE_KEY" $NGINX_PIDS
at_rate haproxy $HAPROXY_PORT "$AIGATE_KEY" "$(cat "$OUT/haproxy.pid")"
at_rate bare $BARE_PORT "$AIGATE_KEY" "$BARE_PID"
at_rate aigate $AIGATE_PORT "$AIGATE_KEY" "$AIGATE_PID"
at_rate limits $AIGATE_PORT "$AIGATE_LIMITED_KEY" "$AIGATE_PID"
RSS_RATE=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$AIGATE_PID/status)

# what a request allocates in aigate: the JVM's own per-thread count (JFR), over a saturated window
JAVA_BIN=$(dirname "$(readlink -f "$IMAGE_JAVA")")
"$JAVA_BIN/jcmd" "$AIGATE_PID" JFR.start name=alloc settings=profile filename="$OUT/alloc.jfr" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$OUT/post.lua" "http://127.0.0.1:$AIGATE_PORT$TARGET" > "$OUT/alloc-wrk.txt"
"$JAVA_BIN/jcmd" "$AIGATE_PID" JFR.stop name=alloc >/dev/null
ALLOC_REQUESTS=$(awk '/requests in/ {print $1}' "$OUT/alloc-wrk.txt")
"$JAVA_BIN/jfr" print --json --events jdk.ThreadAllocationStatistics "$OUT/alloc.jfr" > "$OUT/alloc.json"
ALLOC_PER_REQUEST=$(python3 - "$OUT/alloc.json" "$ALLOC_REQUESTS" <<'PY'
import json, sys
threads = {}
for e in json.load(open(sys.argv[1]))['recording']['events']:
    v = e['values']
    threads.setdefault((v.get('thread') or {}).get('javaThreadId'), []).append(v['allocated'])
print(round(sum(max(a) - min(a) for a in threads.values()) / int(sys.argv[2])))
PY
)

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
measure bare $BARE_PORT 1 1 stream stream
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
read -r _ h_rps _ < <(grep '^haproxy ' "$OUT/results")
read -r _ _ d_p50 d_p99 _ < <(grep '^direct ' "$OUT/latency")
read -r _ _ n_p50 n_p99 _ < <(grep '^nginx ' "$OUT/latency")
read -r _ _ a_p50 a_p99 _ < <(grep '^aigate ' "$OUT/latency")
read -r _ l_rps _ < <(grep '^limits ' "$OUT/results")
read -r _ _ l_p50 _ < <(grep '^limits ' "$OUT/latency")
echo
awk -v a="$a_rps" -v h="$h_rps" -v n="$n_rps" -v d="$d_rps" -v ap="$a_p50" -v np="$n_p50" -v dp="$d_p50" -v a9="$a_p99" -v d9="$d_p99" -v n9="$n_p99" 'BEGIN {
  printf "throughput  aigate/nginx = %.2f   haproxy/nginx = %.2f   aigate/direct = %.2f   (target >= 0.8 x nginx)\n", a/n, h/n, a/d
  printf "added p50   aigate = %.3f ms   nginx = %.3f ms   (target <= 0.3 ms)\n", ap-dp, np-dp
  printf "added p99   aigate = %.3f ms   nginx = %.3f ms\n", a9-d9, n9-d9 }'
awk -v l="$l_rps" -v a="$a_rps" -v n="$n_rps" -v lp="$l_p50" -v ap="$a_p50" 'BEGIN {
  printf "token limit adds p50 %.3f ms (admission in Redis; settlement is off the answer path); throughput limits/nginx = %.2f\n", lp-ap, l/n }'
echo; echo "streams, time to first byte (wrk -t1 -c1):"; table "$OUT/stream"
echo; echo "fixed rate: $RATE req/s for ${RATE_SECONDS}s (autocannon -R $RATE -c 16), CPU of each proxy's own processes:"
printf '%-8s %9s %16s %9s %9s %7s\n' target requests cpu_ms/1000req p50_ms p99_ms errors
while read -r name n cpu p50 p99 err; do printf '%-8s %9s %16s %9s %9s %7s\n' "$name" "$n" "$cpu" "$p50" "$p99" "$err"; done < "$OUT/rate"
read -r _ _ n_cpu _ n_r99 _ < <(grep '^nginx ' "$OUT/rate")
read -r _ _ h_cpu _ _ _ < <(grep '^haproxy ' "$OUT/rate")
read -r _ _ a_cpu _ a_r99 _ < <(grep '^aigate ' "$OUT/rate")
awk -v a="$a_cpu" -v n="$n_cpu" -v h="$h_cpu" -v a9="$a_r99" -v n9="$n_r99" 'BEGIN {
  printf "CPU per request  aigate/haproxy = %.2f   aigate/nginx = %.2f   (targets <= 1.0 and <= 1.3)\n", a/h, a/n
  printf "p99 at %s req/s  aigate/nginx = %.2f   (target <= 1.5)\n", ENVIRON["RATE"], a9/n9 }'
read -r _ _ b_cpu _ b_r99 _ < <(grep '^bare ' "$OUT/rate")
awk -v a="$a_cpu" -v b="$b_cpu" 'BEGIN {
  printf "aigate own share per request  %.0f ms per 1000 (aigate %s, bare pass-through %s: aigate/bare = %.2f)\n", a-b, a, b, a/b }'

# streams at a realistic rate: the tail aigate adds to a streamed answer, beside the direct call. wrk paced by its
# delay() hook: 2 connections, each sending its next stream $PACE_MS ms after the last one ended (~100 a second at the
# default 20), with wrk's microsecond latency percentiles; autocannon's are whole milliseconds.
PACE_MS=${PACE_MS:-20}
{ cat "$OUT/stream.lua"; echo "function delay() return $PACE_MS end"; } > "$OUT/stream-paced.lua"
stream_tail() { # name port: rate, p50 and p99 in ms of paced streams for 20 s
  wrk -t1 -c2 -d20s --latency -s "$OUT/stream-paced.lua" "http://127.0.0.1:$2$STREAM_TARGET" > "$OUT/$1-paced.txt"
  if grep -qE "Non-2xx|Socket errors" "$OUT/$1-paced.txt"; then
    { echo "$1: errors in paced streams"; cat "$OUT/$1-paced.txt"; } >&2
    exit 1
  fi
  echo "$1 $(awk '/Requests\/sec/ {printf "%.0f", $2}' "$OUT/$1-paced.txt") $(ms 50% < "$OUT/$1-paced.txt") $(ms 99% < "$OUT/$1-paced.txt")"
}
{ stream_tail direct $BACKEND_PORT; stream_tail bare $BARE_PORT; stream_tail aigate $AIGATE_PORT; } > "$OUT/paced"
awk '{ r[$1] = $2; p50[$1] = $3; p99[$1] = $4 } END {
  printf "streams paced at ~%s req/s (wrk, 20 s): p50/p99 ms direct %.3f/%.3f, bare %.3f/%.3f, aigate %.3f/%.3f\n",
    r["aigate"], p50["direct"], p99["direct"], p50["bare"], p99["bare"], p50["aigate"], p99["aigate"]
  printf "  aigate adds p50 %.3f ms, p99 %.3f ms over direct (goal p99 <= 1 ms); over bare p99 %.3f ms\n",
    p50["aigate"] - p50["direct"], p99["aigate"] - p99["direct"], p99["aigate"] - p99["bare"] }' "$OUT/paced"
echo "aigate allocation: ${ALLOC_PER_REQUEST} bytes per request at saturation   (target <= 4096)"
echo "aigate RSS  idle ${RSS_IDLE} MB, after the fixed rate ${RSS_RATE} MB, peak under load ${RSS_LOAD} MB   (target <= 100 MB)"
echo "aigate start to ready: ${READY_MS} ms (JVM, java ${AIGATE_JAVA_OPTS})"
echo "aigate tracing: $([ -n "${TRACES:-}" ] && echo 'on, every request sampled and its spans exported over OTLP' || echo 'off (no OTLP endpoint)'); audit log: ${AIGATE_AUDIT_LOG:-refusals}"
if [ -n "${TRACES:-}" ] && grep -qi "export.*fail\|failed to export" "$OUT/aigate.log"; then
  echo "WARNING: span exports failed (see $OUT/aigate.log): the figures are not those of tracing on"
fi
echo "${DURATION}s per measurement after ${WARMUP}s warm-up; $(nproc) cores shared by the load, the backend and the proxies; MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX"
