#!/bin/bash
# Writes aigate's AOT cache (JDK 25, JEP 483/514/515): the JVM maps the classes a start loads from it, already parsed,
# verified and linked, with the profiles of the methods the start ran, instead of reading them from the jars (start to
# ready 1.9 s -> 1.1 s against JDK 17 with its AppCDS archive, docs/benchmarks.md). Run by Dockerfile.jvm's build with
# the image's own JVM (a cache is only valid for the JVM build and flags that wrote it) and by bench/lib.sh, so the
# benches measure what the image ships.
# Usage: aot-training.sh <java> <quarkus-run.jar> <cache>; the flags are $JAVA_OPTS, the ones the image runs with.
#
# An image build has no Redis, no backend and no Entra ID: all three are closed loopback ports, so the run loads what
# a start loads (configuration, HTTP server, the Redis client and its retry, credentials). It runs in an emptied
# environment, so no Azure, proxy, OTLP or Quarkus variable of the machine that runs it can send it anywhere else (the
# Dockerfile also gives the step no network). It is stopped with SIGTERM once Quarkus says it started, as the kubelet
# would stop it; as it exits the JVM records what ran and starts a second JVM (same flags, same environment) that
# assembles the cache. Fails unless aigate started and stopped cleanly and the cache was written, so a broken start
# never ships as a half-filled cache. Ports: AOT_TRAINING_PORT, AOT_TRAINING_MANAGEMENT_PORT (8080, 9000).
set -euo pipefail
java=$1 jar=$2 cache=$3
port=${AOT_TRAINING_PORT:-8080} management=${AOT_TRAINING_MANAGEMENT_PORT:-9000}
log=$(mktemp)
rm -f "$cache" "$cache.config"
fail() {
  tail -20 "$log" >&2
  echo "aot-training.sh: $1; no cache written" >&2
  rm -f "$cache" "$cache.config" "$log"
  exit 1
}
"$java" -XX:+PrintFlagsFinal -version 2>/dev/null | grep -qw AOTCacheOutput \
  || fail "$java cannot write an AOT cache (JDK 25 or later can)"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
env -i PATH="$PATH" HOME=/tmp LANG=C.UTF-8 \
  AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:9 AIGATE_REDIS_URL=redis://127.0.0.1:9 \
  IDENTITY_ENDPOINT=http://127.0.0.1:9/msi/token IDENTITY_HEADER=training AIGATE_IDENTITY_ALLOW_IMDS=false \
  QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$port" \
  QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$management" \
  "$java" ${JAVA_OPTS:-} -Xlog:aot=off -XX:AOTCacheOutput="$cache" -jar "$jar" \
  > "$log" 2>&1 &
pid=$!
started=
for _ in $(seq 1200); do # up to 120 s on a slow builder
  kill -0 "$pid" 2>/dev/null || fail "aigate exited during start"
  if grep -q "started in" "$log"; then started=1; break; fi
  sleep 0.1
done
[ -n "$started" ] || { kill -KILL "$pid" 2>/dev/null; fail "aigate did not start within 120 s"; }
sleep 3 # what start does right after listening: the first Redis attempt, the credential's first token attempt
kill -TERM "$pid"
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL "$pid"
  fail "aigate did not stop within 60 s of SIGTERM (the cache is assembled as it exits)"
fi
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || [ "$status" = 143 ] || fail "aigate exited with status $status"
grep -q "AOTCache creation is complete" "$log" && [ -s "$cache" ] || fail "the JVM assembled no cache"
rm -f "$log"
