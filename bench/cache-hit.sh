#!/usr/bin/env bash
# Layer-1 microbenchmark: the subscription-key step on a cache hit versus a miss that asks Redis.
# Usage: bench/cache-hit.sh [iterations-per-round]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq redis-server >/dev/null; }
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
  io.aigate.subscription.CacheHitBench "${1:-2000000}"
