#!/bin/bash
# Writes aigate's AppCDS archive: the JVM maps the classes a start loads from it, already parsed and verified, instead
# of reading them from the jars (start to ready 3.9 s -> 3.0 s with the shipped flags on this repository's JDK 17,
# docs/benchmarks.md). Run by Dockerfile.jvm's build with the image's own JVM (an archive is only valid for the JVM
# build and flags that wrote it) and by bench/lib.sh, so the benches measure what the image ships.
# Usage: cds-training.sh <java> <quarkus-run.jar> <archive>; the flags are $JAVA_OPTS, the ones the image runs with.
#
# An image build has no Redis, no backend and no Entra ID: all three are closed loopback ports, so the run loads what
# a start loads (configuration, HTTP server, the Redis client and its retry, credentials). It runs in an emptied
# environment, so no Azure, proxy, OTLP or Quarkus variable of the machine that runs it can send it anywhere else (the
# Dockerfile also gives the step no network). It is stopped with SIGTERM once Quarkus says it started, as the kubelet
# would stop it; the JVM writes the archive as it exits. Fails unless aigate started and stopped cleanly, so a broken
# start never ships as a half-filled archive. Ports: CDS_TRAINING_PORT, CDS_TRAINING_MANAGEMENT_PORT (8080, 9000).
set -euo pipefail
java=$1 jar=$2 archive=$3
port=${CDS_TRAINING_PORT:-8080} management=${CDS_TRAINING_MANAGEMENT_PORT:-9000}
log=$(mktemp)
rm -f "$archive"
fail() {
  tail -20 "$log" >&2
  echo "cds-training.sh: $1; no archive written" >&2
  rm -f "$archive" "$log"
  exit 1
}
# shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
env -i PATH="$PATH" HOME=/tmp LANG=C.UTF-8 \
  AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:9 AIGATE_REDIS_URL=redis://127.0.0.1:9 \
  IDENTITY_ENDPOINT=http://127.0.0.1:9/msi/token IDENTITY_HEADER=training AIGATE_IDENTITY_ALLOW_IMDS=false \
  QUARKUS_HTTP_HOST=127.0.0.1 QUARKUS_HTTP_PORT="$port" \
  QUARKUS_MANAGEMENT_HOST=127.0.0.1 QUARKUS_MANAGEMENT_PORT="$management" \
  "$java" ${JAVA_OPTS:-} -Xlog:cds=off -Xlog:cds+dynamic=off -XX:ArchiveClassesAtExit="$archive" -jar "$jar" \
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
  fail "aigate did not stop within 60 s of SIGTERM"
fi
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || [ "$status" = 143 ] || fail "aigate exited with status $status"
[ -s "$archive" ] || fail "the JVM wrote no archive (does $java have its base CDS archive? java -Xshare:dump)"
rm -f "$log"
