#!/usr/bin/env bash
# Every benchmark (not part of the test command): bench/results/<timestamp>.json and a summary table.
#   bash bench/run_all.sh [--quick] [--only points,registers,planning,export]
# See docs/scale.md for what is measured and how to read it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh >/dev/null
exec "$ROOT/.venv/bin/python" "$ROOT/bench/run_all.py" "$@"
