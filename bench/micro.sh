#!/usr/bin/env bash
# Runs one microbenchmark class from the test sources against a real redis-server (installed when missing).
# Usage: bench/micro.sh <class> [args...]   — see cache-hit.sh and accounting.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq redis-server >/dev/null; }
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
CLASS=$1; shift
java -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" "$CLASS" "$@"
