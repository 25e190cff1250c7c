#!/usr/bin/env bash
# `make bench`: Go benchmarks, printed as per-operation costs and ratios:
# the claim round trip (p50/p99 at a fixed rate, records and CPU per claim), how late
# timers act, a restart with a million leads, and the pure costs of a
# decision, a record's and a table value's encoding, a table's recovery and
# the queue's walk, and a dispatch pool's values at 10,000 reps (flat against sharded).
# The claim round trip runs at a fixed offered rate (ORCHARD_BENCH_RATE,
# default 1000 claims/s) on the embedded broker as `orchard run` starts it (kfake,
# its log on disk); it reports records and bytes per claim; set
# ORCHARD_TEST_BROKERS=host:port to run it against a real broker, and
# ORCHARD_BENCH_CPUPROFILE=file (a CPU profile) or ORCHARD_BENCH_TRACE=file
# (an execution trace) to record its claims alone, not the seeding.
# Then the same round trip closed loop: ORCHARD_BENCH_CLIENTS (256) clients,
# each sending its next claim when its last is answered (claims/s is what
# one process sustains on this machine's cores).
set -euo pipefail
cd "$(dirname "$0")/.."
claims=${ORCHARD_BENCH_CLAIMS:-10000}
go test -run '^$' -bench 'ClaimRoundTrip' -benchtime "${claims}x" ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL|PASS)|^\s+[0-9]+\s'
ORCHARD_BENCH_CLIENTS=${ORCHARD_BENCH_CLIENTS:-256} go test -run '^$' -bench 'ClaimClosedLoop' -benchtime "$((claims * 2))x" ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench 'TimerLag' -benchtime 1x ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)|^\s+[0-9]+\s'
# A restart with ORCHARD_BENCH_LEADS (1,000,000) leads in the leads table.
go test -run '^$' -bench 'RestartWithManyLeads' -benchtime 1x -timeout 30m ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench 'TableCodec|StorageRecovery|DispatchPoolValue' -benchmem ./processors/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench 'QueueOverHistory' -benchmem ./api/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench 'QueuePageFirstRender' -benchtime 50x ./app/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench . -benchmem ./lead/ ./schemas/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
# Analytics, on a ClickHouse server of its own (Debian's 18.16, started here
# and stopped at the end): the sink against a raw clickhouse-go insert of the
# same rows (sink/raw), decision-to-queryable at 100 events/s (p50/p99), and
# the whole fairness report over 10 M generated events (ms/report; the
# events are generated once into orchard_bench_10000000 and kept under
# .cache/bench-clickhouse for the next run).
chdir=${ORCHARD_BENCH_CLICKHOUSE_DIR:-.cache/bench-clickhouse}
chport=${ORCHARD_BENCH_CLICKHOUSE_PORT:-29300}
infra/clickhouse/start.sh "$chdir" "$chport" $((chport + 1)) >&2
trap 'infra/clickhouse/stop.sh "$chdir" >&2' EXIT
export ORCHARD_TEST_CLICKHOUSE=127.0.0.1:$chport
go test -run '^$' -bench 'SinkVsRaw|SinkLatency' -benchtime 1x ./analytics/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)'
go test -run '^$' -bench 'FairnessReport' -benchtime 5x -timeout 30m -v ./analytics/ 2>&1 | grep -E '^(Benchmark|ok|FAIL)|report_bench_test'
