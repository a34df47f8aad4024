#!/usr/bin/env bash
# Token-accounting microbenchmark: what counting tokens adds per JSON answer and per stream event, the prompt
# estimate behind a limit's reservation, and the limit's one Redis round trip (a real redis-server on loopback).
# End-to-end numbers with a limit in force come from bench/run.sh (the "limits" rows).
# Usage: bench/accounting.sh [iterations-per-round]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq redis-server >/dev/null; }
./mvnw -B -q test-compile
./mvnw -B -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
  io.aigate.tokens.AccountingBench "${1:-200000}"
