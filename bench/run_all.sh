#!/usr/bin/env bash
# Every benchmark (not part of the test command): bench/results/<timestamp>.json and a summary table.
#   bash bench/run_all.sh [--quick | --headline] [--only points,registers,planning,export] [--core 2.16]
# --core 2.16 runs them with .venv-2.16 (ansible-core 2.16 on Python 3.11; its ansible-playbook and emulator).
# See docs/scale.md for what is measured and how to read it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh >/dev/null
python="$ROOT/.venv/bin/python"
args=()
while (($#)); do
    case "$1" in
        --core)
            [[ "${2:-}" == 2.16 ]] || { echo "--core takes 2.16 (the newest core is the default)" >&2; exit 2; }
            python="$ROOT/.venv-2.16/bin/python"
            shift
            ;;
        *) args+=("$1") ;;
    esac
    shift
done
exec "${python}" "$ROOT/bench/run_all.py" ${args[@]+"${args[@]}"}
