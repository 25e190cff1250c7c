#!/usr/bin/env bash
# The integration run of `make test`: starts a real Apache Kafka broker
# (jars from Maven Central) and Debian's ClickHouse server on loopback, runs
# the end-to-end suites against them, and stops both whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/orchard-it.XXXXXX)
# Below 32768: Linux hands out 32768-60999 as the local ports of outgoing
# connections, and one of them once held ClickHouse's port when it started.
kport=${ORCHARD_IT_KAFKA_PORT:-29192}
chport=${ORCHARD_IT_CLICKHOUSE_PORT:-29100}
cleanup() {
  infra/kafka/stop.sh "$work/kafka" || true
  infra/clickhouse/stop.sh "$work/clickhouse" || true
  rm -rf "$work"
}
trap cleanup EXIT
# The browser tests drive Debian's Chromium (no browser download).
if ! command -v chromium >/dev/null; then
  { apt-get update -q && apt-get install -y -q chromium; } >/dev/null
fi
# The accessibility audit of the pages runs axe-core, from npm.
axe_dir=${ORCHARD_CACHE:-$HOME/.cache/orchard}/axe-core-4.14.1
if [ ! -f "$axe_dir/package/axe.min.js" ]; then
  mkdir -p "$axe_dir" && (cd "$axe_dir" && npm pack -q axe-core@4.14.1 >/dev/null && tar xzf axe-core-4.14.1.tgz)
fi
export ORCHARD_AXE=$axe_dir/package/axe.min.js
kafka_line=$(infra/kafka/start.sh "$work/kafka" "$kport")
echo "$kafka_line"
infra/clickhouse/start.sh "$work/clickhouse" "$chport" $((chport + 1))
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' infra/kafka/pom.xml)
export ORCHARD_TEST_BROKERS=127.0.0.1:$kport
export ORCHARD_TEST_KAFKA_VERSION=$version
export ORCHARD_TEST_CLICKHOUSE=127.0.0.1:$chport
export ORCHARD_TEST_REQUIRE=1
export ORCHARD_TEST_ARTIFACTS=${ORCHARD_TEST_ARTIFACTS:-$PWD/.artifacts}  # screenshots of the browser tests
# The whole suite again, now on the real servers (the fast unit tests come
# along; they take a second). -p 1: one package at a time on one broker.
set +e
go test -count=1 -p 1 -v ./... 2>&1 | tee "$work/test.log" | grep -E '^(--- |FAIL|ok|panic|app tests|analytics tests|chaos:|kafka fuzz:|http fuzz:|authz matrix:|mode switch under load:|policy keys:|simulate:|metrics:|browser:)|^\s+\S+_test.go'
status=${PIPESTATUS[0]}
set -e
if [ "$status" != 0 ]; then
  echo "integration tests FAILED (exit $status); the full log:"; cat "$work/test.log"; exit 1
fi
if grep -q -- '--- SKIP' "$work/test.log"; then
  echo "integration tests skipped something; that is a failure here:"; grep -A2 -- '--- SKIP' "$work/test.log"; exit 1
fi
echo "== the same SQL on a current ClickHouse (chDB)"
scripts/sqlcheck.sh
echo "== the documentation's examples, as written, against make run"
scripts/docs-examples.sh
echo "integration tests passed against: $kafka_line; ClickHouse on 127.0.0.1:$chport"
