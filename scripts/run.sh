#!/usr/bin/env bash
# `make run`: Orchard in one process on the embedded Kafka (data in
# ./.orchard), with ClickHouse when Debian's server is available here.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${ORCHARD_DATA:-.orchard}
http=${ORCHARD_HTTP:-127.0.0.1:8080}
export ORCHARD_SECRET=${ORCHARD_SECRET:-orchard-dev-secret}
# A second `make run` stops here, before it starts or prints anything: the
# ports are taken (by Orchard or by something else).
busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
for hp in "$http" 127.0.0.1:19092 127.0.0.1:19000; do
  if busy "${hp%:*}" "${hp##*:}"; then
    echo "make run: $hp is already in use — is Orchard already running (make run in another terminal)? Stop it first, or set ORCHARD_HTTP for another API address." >&2
    exit 1
  fi
done
args=(run --data "$data" --http "$http")
chpid=""
if [ "${ORCHARD_NO_CLICKHOUSE:-}" != 1 ] && { command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ] || command -v apt-get >/dev/null; }; then
  if infra/clickhouse/start.sh "$data/clickhouse" 19000 18123; then
    args+=(--clickhouse clickhouse://127.0.0.1:19000/orchard)
    chpid=$(cat "$data/clickhouse/pid")
  else
    echo "ClickHouse could not start here: running without analytics" >&2
  fi
fi
stop_clickhouse() { [ -n "$chpid" ] && infra/clickhouse/stop.sh "$data/clickhouse"; }
trap stop_clickhouse EXIT
tok() { bin/orchard token --sub "$1" --role "$2" --ttl 720h; }
cat <<MSG

Orchard on the embedded Kafka (data in $data/). Tokens for the tour (README.md), valid 30 days:
  export MANAGER=$(tok boss manager)
  export MKT=$(tok marketing integration)
  export ANA=$(tok ana rep)
  export BO=$(tok bo rep)
More: ORCHARD_SECRET=$ORCHARD_SECRET bin/orchard token --sub ID --role rep|manager|integration
$( [ -n "$chpid" ] && echo "Fairness report: bin/orchard report --clickhouse clickhouse://127.0.0.1:19000/orchard" )
MSG
bin/orchard "${args[@]}"
