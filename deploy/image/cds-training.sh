#!/bin/bash
# Writes aigate's AppCDS archive: the JVM maps the classes a start loads from it, already parsed and verified, instead
# of reading them from the jars (start to ready 3.9 s -> 3.0 s with the shipped flags, docs/benchmarks.md). Run by
# Dockerfile.jvm's build with the image's own JVM (an archive is only valid for the JVM build that wrote it) and by
# bench/lib.sh, so the benches measure what the image ships.
# Usage: cds-training.sh <java> <quarkus-run.jar> <archive>; the flags are $JAVA_OPTS, the ones the image runs with.
#
# An image build has no Redis, no backend and no Entra ID: all three are closed loopback ports, so the run loads what
# a start loads (configuration, HTTP server, the Redis client and its retry, credentials) and nothing leaves the
# machine (never the instance metadata address). It is stopped with SIGTERM, as the kubelet would stop it; the JVM
# writes the archive as it exits. Ports: CDS_TRAINING_PORT and CDS_TRAINING_MANAGEMENT_PORT (8080, 9000).
set -euo pipefail
java=$1 jar=$2 archive=$3
port=${CDS_TRAINING_PORT:-8080} management=${CDS_TRAINING_MANAGEMENT_PORT:-9000}
log=$(mktemp)
rm -f "$archive"
# shellcheck disable=SC2086 # JAVA_OPTS is a list of flags
AZURE_OPENAI_BACKEND_URL=http://127.0.0.1:9 AIGATE_REDIS_URL=redis://127.0.0.1:9 \
  IDENTITY_ENDPOINT=http://127.0.0.1:9/msi/token IDENTITY_HEADER=training AIGATE_IDENTITY_ALLOW_IMDS=false \
  QUARKUS_HTTP_PORT=$port QUARKUS_MANAGEMENT_PORT=$management \
  "$java" ${JAVA_OPTS:-} -Xlog:cds=off -Xlog:cds+dynamic=off -XX:ArchiveClassesAtExit="$archive" -jar "$jar" \
  > "$log" 2>&1 &
pid=$!
# up = the management port accepts a connection (bash's /dev/tcp: the runtime image has no curl); then a moment more
# for what start does right after listening (first Redis attempt, the credential's first token attempt)
for _ in $(seq 600); do
  kill -0 "$pid" 2>/dev/null || break
  if (exec 3<> "/dev/tcp/127.0.0.1/$management") 2>/dev/null; then sleep 3; break; fi
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
if [ ! -s "$archive" ]; then
  tail -20 "$log" >&2
  echo "cds-training.sh: no archive written to $archive (does $java have its base CDS archive? java -Xshare:dump)" >&2
  exit 1
fi
rm -f "$log"
