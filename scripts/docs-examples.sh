#!/usr/bin/env bash
# Runs the documentation's examples as written: every ```sh block of docs/
# that follows a `<!-- docs-examples: run -->` line, against a fresh
# `make run` (embedded Kafka on 127.0.0.1:19092, API on 127.0.0.1:8080, no
# ClickHouse), in the repository root. A block fails when a command fails
# or when a `#  -> text` line of it is not in its output.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kcat >/dev/null; then
  { apt-get update -q && apt-get install -y -q kcat; } >&2
fi
make -s build >&2
data=$(mktemp -d /tmp/orchard-docs.XXXXXX)
ORCHARD_DATA="$data/run" ORCHARD_NO_CLICKHOUSE=1 setsid scripts/run.sh >"$data/run.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM -- -"$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 -- -"$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- -"$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 240); do
  if curl -sf http://127.0.0.1:8080/healthz >/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "docs examples: make run stopped:"; cat "$data/run.log"; exit 1; fi
  sleep 0.5
done
curl -sf http://127.0.0.1:8080/healthz >/dev/null || { echo "docs examples: make run not healthy after 120 s:"; cat "$data/run.log"; exit 1; }
python3 - "$data" docs/*.md <<'PY'
import pathlib, sys
out, n = pathlib.Path(sys.argv[1]), 0
for doc in sys.argv[2:]:
    lines = pathlib.Path(doc).read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "<!-- docs-examples: run -->":
            continue
        if not lines[i + 1].startswith("```sh"):
            sys.exit(f"{doc}:{i+1}: the marker is not followed by a ```sh block")
        end = lines.index("```", i + 2)
        n += 1
        (out / f"example-{n}.sh").write_text("\n".join(lines[i + 2:end]) + "\n")
        (out / f"example-{n}.where").write_text(f"{doc}:{i+3}")
if n == 0:
    sys.exit("no example marked <!-- docs-examples: run --> in docs/")
PY
status=0
for block in "$data"/example-*.sh; do
  where=$(cat "${block%.sh}.where")
  if ! bash -eo pipefail "$block" >"$block.out" 2>&1; then
    echo "docs examples: $where failed:"; cat "$block.out"; status=1; continue
  fi
  missing=0
  while IFS= read -r want; do
    if ! grep -qF -- "$want" "$block.out"; then
      echo "docs examples: $where: output lacks: $want"; missing=1
    fi
  done < <(sed -n 's/^#  -> //p' "$block")
  if [ "$missing" = 1 ]; then echo "its output:"; cat "$block.out"; status=1; continue; fi
  echo "docs examples: $where ran as written ($(grep -c '^#  -> ' "$block") expected lines found)"
done
exit $status
