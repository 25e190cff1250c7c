#!/usr/bin/env bash
# Runs analytics/ SQL on a current ClickHouse engine (chDB 26.x from PyPI,
# in a venv cached outside git), beside the 18.16 server of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${ORCHARD_CACHE:-$HOME/.cache/orchard}/venv-chdb
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import chdb' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q chdb-core==26.9.0
fi
"$venv/bin/python" analytics/sqlcheck.py
