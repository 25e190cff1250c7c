#!/usr/bin/env bash
# `make bench`: Go benchmarks, printed as per-operation costs and ratios:
# the claim round trip (p50/p99 at a fixed rate), how late timers act, and
# the pure costs of a decision and of a record's encoding.
# The claim round trip runs at a fixed offered rate (ORCHARD_BENCH_RATE,
# default 1000 claims/s) on the embedded broker (kfake); set
# ORCHARD_TEST_BROKERS=host:port to run it against a real broker.
set -euo pipefail
cd "$(dirname "$0")/.."
claims=${ORCHARD_BENCH_CLAIMS:-10000}
go test -run '^$' -bench 'ClaimRoundTrip' -benchtime "${claims}x" ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|PASS)|^\s+[0-9]+\s'
go test -run '^$' -bench 'TimerLag' -benchtime 1x ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)|^\s+[0-9]+\s'
go test -run '^$' -bench . -benchmem ./lead/ ./schemas/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
