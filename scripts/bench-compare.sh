#!/usr/bin/env bash
# `make bench-compare`: Orchard's processors against a Kafka Streams twin of
# the same claim saga (bench/kstreams: at-least-once and exactly-once v2),
# on one Apache Kafka broker started here, driven by one Go load generator
# (bench/loadgen) at the Kafka level: claim_requested in, decisions out.
# For each repeat the three run one after the other (each repeat starting
# one target further on), each on fresh topics:
# after seeding (until every consumer group has caught up) and a 3 s
# warm-up, the most claims per second it answers (closed loop, 512
# outstanding), then 200 and 1,000 claims/s offered open loop; p50/p99/p99.9 from send
# to answer; CPU seconds per 10,000 claims of the application and of the
# broker (/proc). One table at the end; the raw lines stay in
# .cache/bench-compare/results.jsonl.
#
#   ORCHARD_COMPARE_REPEATS (3), ORCHARD_COMPARE_DURATION (10s),
#   ORCHARD_COMPARE_TARGETS ("orchard twin-alos twin-eos"),
#   ORCHARD_COMPARE_LEADS (200000 seeded per target), ORCHARD_COMPARE_PORT (29692),
#   ORCHARD_COMPARE_WARMUP (5s: each target runs closed loop this long on a
#   fresh broker before the first repeat, unrecorded; 0 skips it),
#   ORCHARD_COMPARE_BREAKDOWN (1: Orchard's runs split each claim at its
#   hops, loadgen --breakdown; in results.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${ORCHARD_COMPARE_REPEATS:-3}
duration=${ORCHARD_COMPARE_DURATION:-10s}
targets=${ORCHARD_COMPARE_TARGETS:-orchard twin-alos twin-eos}
# Enough for a 10 s closed loop at 16 k claims/s plus the paced runs and the
# warm-up (Orchard's max reached 10.8 k/s on 2026-12-07: 120,000 ran out).
leads=${ORCHARD_COMPARE_LEADS:-200000}
port=${ORCHARD_COMPARE_PORT:-29692}
dir=$PWD/.cache/bench-compare
mkdir -p "$dir"
results=$dir/results.jsonl
: > "$results"

echo "== building orchard, the load generator and the Kafka Streams twin" >&2
go build -o bin/orchard ./cmd/orchard
go build -o bin/loadgen ./bench/loadgen
(cd bench/kstreams && mvn -q -B package)
twin_cp="bench/kstreams/target/orchard-kstreams-twin-1.jar:bench/kstreams/target/lib/*"

infra/kafka/start.sh "$dir/kafka" "$port" >&2
broker=127.0.0.1:$port
broker_pid=$(cat "$dir/kafka/pid")
app_pid=
stop_app() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  app_pid=
}
trap 'stop_app; infra/kafka/stop.sh "$dir/kafka" >&2' EXIT

policy=$dir/policy.yaml
printf 'quotas: {per_hour: 1000000, per_day: 1000000, per_week: 1000000}\n' > "$policy"
export ORCHARD_SECRET=bench-compare-secret-of-32-bytes-at-least

start_target() { # target prefix -> app_pid
  local target=$1 prefix=$2
  case $target in
    orchard)
      bin/orchard topics create --brokers "$broker" --topic-prefix "$prefix" --partitions 8 --replication 1 >/dev/null
      bin/orchard processor --brokers "$broker" --topic-prefix "$prefix" --partitions 8 --replication 1 \
        --policy "$policy" --log-level warn >"$dir/$prefix.log" 2>&1 &
      app_pid=$! ;;
    twin-alos|twin-eos)
      local g=at_least_once
      [ "$target" = twin-eos ] && g=exactly_once_v2
      bin/loadgen --brokers "$broker" --prefix "$prefix" --target twin --setup
      java -Xmx2g -cp "$twin_cp" dev.orchard.bench.ClaimSaga --bootstrap "$broker" --prefix "$prefix" \
        --schemas schemas --guarantee "$g" --state-dir "$dir/state-$prefix" >"$dir/$prefix.log" 2>&1 &
      app_pid=$! ;;
    *) echo "unknown target $target" >&2; exit 2 ;;
  esac
}

read -r -a order <<< "$targets"
# A freshly started broker is slow for the first client stack that loads
# it (the JVM compiles its request paths as they are used): every target
# had its worst repeat when it met the new broker, whichever slot that was
# (Orchard 3.9-4.4k claims/s there against 5.4-7.1k after). So before the
# first repeat every target loads the broker once, unrecorded.
warmup=${ORCHARD_COMPARE_WARMUP:-5s}
if [ "$warmup" != 0 ]; then
  for target in "${order[@]}"; do
    prefix="warm-$target-$(date +%s)."
    kind=orchard
    [ "$target" != orchard ] && kind=twin
    echo "== broker warm-up: $target ($warmup, not recorded)" >&2
    start_target "$target" "$prefix"
    bin/loadgen --brokers "$broker" --prefix "$prefix" --target $kind --seed --reps 1000 --leads 60000
    bin/loadgen --brokers "$broker" --prefix "$prefix" --target $kind --leads 60000 --reps 1000 \
      --rate 0 --duration "$warmup" --label warmup >/dev/null
    stop_app
  done
fi
for r in $(seq 1 "$repeats"); do
  # Each repeat starts one target further on, so that no target always
  # meets the freshly started broker (Orchard, always first, always had
  # its worst repeat first).
  shift_by=$(( (r - 1) % ${#order[@]} ))
  for target in "${order[@]:shift_by}" "${order[@]:0:shift_by}"; do
    prefix="cmp-$r-$target-$(date +%s)."
    kind=orchard
    [ "$target" != orchard ] && kind=twin
    echo "== repeat $r: $target" >&2
    start_target "$target" "$prefix"
    bin/loadgen --brokers "$broker" --prefix "$prefix" --target $kind --seed --reps 1000 --leads "$leads"
    # A warm-up (JIT, connections, caches), not measured.
    first=$(bin/loadgen --brokers "$broker" --prefix "$prefix" --target $kind --leads "$leads" --reps 1000 \
      --rate 500 --duration 3s --label warmup | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_first_lead"])')
    extra=()
    [ "${ORCHARD_COMPARE_BREAKDOWN:-0}" = 1 ] && [ "$kind" = orchard ] && extra=(--breakdown)
    for rate in 0 200 1000; do
      line=$(bin/loadgen --brokers "$broker" --prefix "$prefix" --target $kind --leads "$leads" --reps 1000 \
        --rate $rate --duration "$duration" --first $first --label "$target" --pids "app=$app_pid,broker=$broker_pid" "${extra[@]}")
      echo "$line" | tee -a "$results" >&2
      first=$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["next_first_lead"])')
    done
    stop_app
  done
done

python3 - "$results" <<'PY'
import json, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["label"], r["rate"])].append(r)
def rng(vals, fmt="{:.1f}"):
    vals = sorted(vals)
    if not vals: return "-"
    return fmt.format(vals[0]) if len(vals) == 1 or fmt.format(vals[0]) == fmt.format(vals[-1]) else fmt.format(vals[0]) + "–" + fmt.format(vals[-1])
labels = []
for (label, _) in runs:
    if label not in labels: labels.append(label)
print()
print("| | max claims/s | p50 / p99 / p99.9 ms at 200/s | p50 / p99 / p99.9 ms at 1,000/s | CPU-s per 10k claims, app / broker (at 1,000/s) | unanswered / wrong |")
print("|---|---|---|---|---|---|")
for label in labels:
    mx, r200, r1k = runs[(label, 0)], runs[(label, 200)], runs[(label, 1000)]
    lat = lambda rs: " / ".join(rng([r[k] for r in rs]) for k in ("p50_ms", "p99_ms", "p999_ms"))
    cpu = rng([r["cpu_s_per_10k"].get("app", 0) for r in r1k], "{:.2f}") + " / " + rng([r["cpu_s_per_10k"].get("broker", 0) for r in r1k], "{:.2f}")
    lost = sum(r["timed_out"] for rs in (mx, r200, r1k) for r in rs)
    wrong = sum(r.get("wrong", 0) for rs in (mx, r200, r1k) for r in rs)
    print(f"| {label} | {rng([r['claims_per_s'] for r in mx], '{:.0f}')} | {lat(r200)} | {lat(r1k)} | {cpu} | {lost} / {wrong} |")
print(f"\n{len(runs[(labels[0], 0)]) if labels else 0} repeats; ranges are min–max over repeats.")
PY
