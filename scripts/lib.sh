# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Sourced, never executed.
#
# Every gate is a "step": run_step NAME CMD... runs CMD, prints one line "PASS|FAIL  NAME  12.3s" and
# appends "NAME<TAB>STATUS<TAB>SECONDS" to $MK_STEP_LOG when it is set, so scripts/test.sh can print one
# table for all the steps its children ran.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REPO_ROOT}/.venv"
# The oldest supported ansible-core (requirements-2.16.txt), for scripts/test.sh's 2.16 steps and bench/.
# shellcheck disable=SC2034 # used by the scripts that source this file
VENV_2_16="${REPO_ROOT}/.venv-2.16"
# shellcheck disable=SC2034 # used by the scripts that source this file
TMP_DIR="${REPO_ROOT}/.tmp"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }
indent() { sed 's/^/  /'; }
warn() { printf '[%s] WARNING: %s\n' "$(basename "$0" .sh)" "$*" >&2; }

# Seconds since the epoch with milliseconds; bash's $SECONDS is whole seconds only.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

record_step() { # NAME STATUS SECONDS
    printf '%-5s %-28s %7ss\n' "$2" "$1" "$3"
    if [[ -n "${MK_STEP_LOG:-}" ]]; then
        printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"${MK_STEP_LOG}"
    fi
}

# run_step NAME CMD...: never aborts the caller (set -e is bypassed); returns CMD's exit status.
run_step() {
    local name="$1" start rc=0
    shift
    start="$(now)"
    log "---- ${name}: $*"
    "$@" || rc=$?
    if ((rc == 0)); then
        record_step "${name}" PASS "$(elapsed "${start}")"
    else
        record_step "${name}" FAIL "$(elapsed "${start}")"
    fi
    return "${rc}"
}

skip_step() { # NAME REASON
    log "---- $1: skipped ($2)"
    record_step "$1" SKIP 0.0
}

# The venv's tools go first on PATH, so every ansible-* below is the pinned one.
use_venv() {
    if [[ ! -x "${VENV}/bin/python" ]]; then
        echo "no ${VENV}; run: bash scripts/bootstrap.sh" >&2
        return 1
    fi
    export VIRTUAL_ENV="${VENV}"
    export PATH="${VENV}/bin:${PATH}"
    # pyenv's shims must not pick another interpreter for "python3" inside the tools.
    unset PYENV_VERSION
}

venv_python_xy() { "${VENV}/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
