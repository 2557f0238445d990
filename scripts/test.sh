#!/usr/bin/env bash
# THE test command (README, .ci/run):
#   bash scripts/test.sh            bootstrap, static gates (scripts/sanity.sh), then pytest
#   bash scripts/test.sh --quick    bootstrap, then pytest (no build/sanity/lint), for developers
#   bash scripts/test.sh [--quick] -- <pytest args>    e.g. -- -k lifecycle, or -- tests/unit/x.py
# Every step runs even after a failure. The step table is printed BEFORE pytest, so pytest's own summary
# line ("N passed in Xs") is the last line of the output, which is what CI reads. The exit status is the
# worst of all steps.
set -euo pipefail
# shellcheck source=scripts/lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

quick=0
pytest_args=()
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --) shift; pytest_args=("$@"); break ;;
        -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

mkdir -p "${TMP_DIR}"
export MK_STEP_LOG="${TMP_DIR}/test-steps.tsv"
: >"${MK_STEP_LOG}"
worst=0
total_start="$(now)"

print_table() {
    echo
    echo "==== steps ($(elapsed "${total_start}")s so far) ===="
    awk -F'\t' '{ printf "%-5s %-28s %7ss\n", $2, $1, $3 }' "${MK_STEP_LOG}"
    echo "==== pytest follows; its summary is the last line ===="
}

if ! run_step bootstrap bash scripts/bootstrap.sh; then
    print_table
    echo "bootstrap failed: nothing else can run" >&2
    exit 1
fi
use_venv

if ((quick)); then
    skip_step sanity "--quick"
else
    # sanity.sh records its own steps (build, install, content, ...) in MK_STEP_LOG.
    bash scripts/sanity.sh || worst=1
fi

# pytest: only the test trees that exist (a missing path is a usage error for pytest). When the pytest
# arguments name a test path themselves ("-- tests/unit/x.py::test_y"), run just that.
paths=()
user_paths=0
for a in "${pytest_args[@]}"; do
    [[ "$a" != -* && -e "${a%%::*}" ]] && user_paths=1
done
if ((!user_paths)); then
    for d in tests/unit tests/sandbox tests/integration; do
        [[ -d "$d" ]] && paths+=("$d")
    done
fi
# Two cores on CI; more workers only add start-up cost. --dist loadgroup keeps xdist_group-marked
# tests (sharing one emulator or sshd) on the same worker.
workers="$(nproc 2>/dev/null || echo 1)"
((workers > 2)) && workers=2
# Hypothesis keeps its example database in ./.hypothesis by default: keep it out of the repo (and tarball).
export HYPOTHESIS_STORAGE_DIRECTORY="${TMP_DIR}/hypothesis"

print_table
if ((${#paths[@]} == 0 && !user_paths)); then
    echo "no test directories (tests/unit, tests/sandbox, tests/integration): nothing was tested" >&2
    exit 1
fi
log "---- pytest: python -m pytest -n ${workers} --dist loadgroup ${paths[*]:-} ${pytest_args[*]:-}"
rc=0
python -m pytest -n "${workers}" --dist loadgroup ${paths[@]+"${paths[@]}"} ${pytest_args[@]+"${pytest_args[@]}"} || rc=$?
if ((rc == 5)); then
    echo "pytest collected no tests: that is a failure, not a pass" >&2
    exit 1
fi
((rc > worst)) && worst="${rc}"
exit "${worst}"
