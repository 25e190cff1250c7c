#!/usr/bin/env bash
# Stops the broker started by start.sh DIR.
dir=${1:?usage: stop.sh DIR}
[ -f "$dir/pid" ] || exit 0
pid=$(cat "$dir/pid"); kill "$pid" 2>/dev/null || exit 0
for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.25; done
kill -9 "$pid" 2>/dev/null || true
