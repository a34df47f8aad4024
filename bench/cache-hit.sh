#!/usr/bin/env bash
# Layer-1 microbenchmark: the subscription-key step on a cache hit versus a miss that asks Redis.
# Usage: bench/cache-hit.sh [iterations-per-round]
exec "$(dirname "$0")/micro.sh" io.aigate.subscription.CacheHitBench "${1:-2000000}"
