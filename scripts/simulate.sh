#!/usr/bin/env bash
# `make simulate`: `orchard simulate` with a ClickHouse of its own (Debian's
# server, data in ./.orchard-sim, stopped at the end). Arguments go to
# orchard simulate, e.g.
#   make simulate ARGS="--against examples/sim/guardrails-off.yaml --team hoarder:2,cherry_picker:8 --days 3"
set -euo pipefail
cd "$(dirname "$0")/.."
data=${ORCHARD_SIM_DATA:-.orchard-sim}
port=${ORCHARD_SIM_CLICKHOUSE_PORT:-19200}
infra/clickhouse/start.sh "$data/clickhouse" "$port" $((port + 1)) >&2
trap 'infra/clickhouse/stop.sh "$data/clickhouse" >&2' EXIT
bin/orchard simulate --clickhouse "clickhouse://127.0.0.1:$port/orchard" "$@"
