#!/usr/bin/env bash
# Token-accounting microbenchmark: what counting tokens adds per JSON answer and per stream event, the prompt
# estimate behind a limit's reservation, and the limit's one Redis round trip (a real redis-server on loopback).
# End-to-end numbers with a limit in force come from bench/run.sh (the "limits" rows).
# Usage: bench/accounting.sh [iterations-per-round]
exec "$(dirname "$0")/micro.sh" io.aigate.tokens.AccountingBench "${1:-200000}"
