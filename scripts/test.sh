#!/usr/bin/env bash
# THE test command (README, .ci/run):
#   bash scripts/test.sh            bootstrap, static gates (scripts/sanity.sh), the tests on ansible-core 2.16
#                                   (units + the core-sensitive integration tests, from the installed tarball),
#                                   then pytest on the newest core
#   bash scripts/test.sh --quick    bootstrap, then pytest on the newest core (no gates, no 2.16), for developers
#   bash scripts/test.sh --quick --with-2.16    the same plus the 2.16 steps
#   bash scripts/test.sh [--quick] -- <pytest args>    e.g. -- -k lifecycle, or -- tests/unit/x.py
# Every step runs even after a failure. The step table is printed BEFORE pytest, so pytest's own summary
# line ("N passed in Xs") is the last line of the output, which is what CI reads. The exit status is the
# worst of all steps.
set -euo pipefail
# shellcheck source=scripts/lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

quick=0
with_216_flag=0
pytest_args=()
while (($#)); do
    case "$1" in
        --quick) quick=1 ;;
        --with-2.16) with_216_flag=1 ;;
        --) shift; pytest_args=("$@"); break ;;
        -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown option: $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done

with_216=$((!quick || with_216_flag))
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

# The static gates run beside the 2.16 steps: the gates keep about one core busy (ansible-test, ansible-lint and
# ansible-doc are one process at a time), the 2.16 tests wait on sshd and the emulator part of the time, so together
# they fill the two cores in about the time of the longer one (measured: 266-290 s against about 350 s one after the
# other). Their output goes to a log printed when they end, so neither's output is cut into the other's.
SANITY_LOG="${TMP_DIR}/sanity.log"
sanity_pid=""
if ((quick)); then
    skip_step sanity "--quick"
else
    # sanity.sh records its own steps (build, install, content, ...) in MK_STEP_LOG.
    log "---- static gates (scripts/sanity.sh) in the background; their output follows the 2.16 steps"
    # Its own session (setsid), so the trap can stop all of it, ansible-test's children too, when this script is
    # interrupted or ends early.
    setsid bash scripts/sanity.sh >"${SANITY_LOG}" 2>&1 &
    sanity_pid=$!
    trap '[[ -n "${sanity_pid}" ]] && kill -- "-${sanity_pid}" 2>/dev/null; true' EXIT
    trap 'exit 130' INT TERM
fi

# ---- ansible-core 2.16, the oldest supported core -------------------------------------------------------
# Its own venv (.venv-2.16, Python 3.11), the collection built and installed with 2.16's ansible-galaxy into
# .tmp/collections-2.16 (not the working tree's symlink): the unit tests run inside the installed copy, the
# integration tests below point the harness at it (MK_COLLECTIONS_PATH) and at 2.16's ansible-playbook. Which
# integration tests run here, and why: DEVELOPERS.md, "Two cores".
CORE_216_INTEGRATION=(
    tests/integration/test_harness.py                # the harness's callback: result objects
    tests/integration/test_report_matches_recap.py   # the drift report's callback and modulkassa-plan
    tests/integration/test_execution_node.py         # ansible-runner transmit | worker | process, slicing
    tests/integration/test_chain_repo.py             # import_playbook of collection playbooks, ansible.cfg
    tests/integration/test_retail_points.py          # action plugins: arguments (plain_arguments), check/diff
    tests/integration/test_bad_input.py              # argument typing and validation, YAML errors
    # templating of hostvars (fleet_validate), roles, module_defaults: the cases where the core's templating shows
    # (the rest of test_fleet.py's corpus is our validator's messages, the same on every core)
    tests/integration/test_fleet.py::test_site_converges_then_is_idempotent_and_audit_writes_nothing
    tests/integration/test_fleet.py::test_the_roles_use_the_plays_module_defaults_and_its_timeout_and_retries
    tests/integration/test_fleet.py::test_the_fleet_sets_the_roles_timeout_retries_and_concurrency
    "tests/integration/test_fleet.py::test_bad_fleet_fails_validation_with_the_path_and_no_request[undefined-variable]"
    "tests/integration/test_fleet.py::test_bad_fleet_fails_validation_with_the_path_and_no_request[group-overrides-controller]"
    "tests/integration/test_fleet.py::test_bad_fleet_fails_validation_with_the_path_and_no_request[wrong-type]"
    tests/integration/test_fleet.py::test_the_corpus_base_is_valid_and_validation_reads_nothing
    "tests/integration/test_fleet.py::test_an_alias_bomb_is_refused_naming_the_variable_within_bounds[site]"
    tests/integration/test_fleet.py::test_a_point_that_cannot_be_written_stops_only_its_registers
    # the connection API (raw exec, stdin), a lost connection and the core's task timeout, -vvvv display (the
    # rest of test_registers.py is our binding code against the agent, the same on every core)
    tests/integration/test_registers.py::test_bind_rebind_exclusive_unbind_and_noop
    tests/integration/test_registers.py::test_unreachable_register_does_not_stop_the_others
    "tests/integration/test_registers.py::test_bind_cut_off_before_redeeming_leaves_no_live_code[connection]"
    "tests/integration/test_registers.py::test_bind_cut_off_before_redeeming_leaves_no_live_code[timeout]"
    tests/integration/test_registers.py::test_no_secret_in_verbose_output
    tests/integration/test_cabinet_inventory.py      # the inventory plugin: options, cache, unsafe strings
)
COLLECTIONS_216="${TMP_DIR}/collections-2.16"
INSTALLED_216="${COLLECTIONS_216}/ansible_collections/modulkassa/pos"

core_216_install() {
    local dist="${TMP_DIR}/dist-2.16"
    [[ -x "${VENV_2_16}/bin/ansible-galaxy" ]] || { echo "no ${VENV_2_16}: bash scripts/bootstrap.sh (needs Python 3.10-3.12)" >&2; return 1; }
    rm -rf "${dist}" "${COLLECTIONS_216}"
    "${VENV_2_16}/bin/ansible-galaxy" collection build --force --output-path "${dist}" .
    "${VENV_2_16}/bin/ansible-galaxy" collection install --force --no-deps -p "${COLLECTIONS_216}" "${dist}"/modulkassa-pos-*.tar.gz
    [[ -f "${INSTALLED_216}/MANIFEST.json" ]]
}

core_216_units() {
    # Inside the installed copy: the tests import ansible_collections.modulkassa.pos from it (PYTHONPATH).
    (cd "${INSTALLED_216}" && PYTHONPATH="${COLLECTIONS_216}" HYPOTHESIS_STORAGE_DIRECTORY="${TMP_DIR}/hypothesis-2.16" \
        "${VENV_2_16}/bin/python" -m pytest -p no:cacheprovider -q -n "${workers}" tests/unit)
}

core_216_integration() {
    PATH="${VENV_2_16}/bin:${PATH}" VIRTUAL_ENV="${VENV_2_16}" MK_COLLECTIONS_PATH="${COLLECTIONS_216}" \
        MK_ANSIBLE_PLAYBOOK="${VENV_2_16}/bin/ansible-playbook" HYPOTHESIS_STORAGE_DIRECTORY="${TMP_DIR}/hypothesis-2.16" \
        "${VENV_2_16}/bin/python" -m pytest -p no:cacheprovider -q -n "${workers}" --dist loadgroup "${CORE_216_INTEGRATION[@]}"
}

# Two cores on CI, one worker per core. A third worker for the last pytest was measured and dropped: 558 s for the
# whole tree alone, but 648 s inside the test command against 644 s with two, each test about 1.5 times slower (the
# tests are CPU-bound: ansible-playbook, the emulator and sshd take the two cores); a fourth, 648 s alone.
workers="$(nproc 2>/dev/null || echo 1)"
((workers > 2)) && workers=2

if ((with_216)); then
    if run_step 2.16-install core_216_install; then
        run_step 2.16-units core_216_units || worst=1
        run_step 2.16-integration core_216_integration || worst=1
    else
        worst=1
        for s in 2.16-units 2.16-integration; do skip_step "$s" "2.16-install failed"; done
    fi
else
    skip_step 2.16 "--quick (add --with-2.16)"
fi

if [[ -n "${sanity_pid}" ]]; then
    sanity_rc=0
    wait "${sanity_pid}" || sanity_rc=$?
    sanity_pid=""
    log "---- static gates (scripts/sanity.sh): output"
    cat "${SANITY_LOG}"
    ((sanity_rc == 0)) || worst=1
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
# --dist loadgroup keeps xdist_group-marked tests (sharing one emulator or sshd) on the same worker.
# Hypothesis keeps its example database in ./.hypothesis by default: keep it out of the repo (and tarball).
export HYPOTHESIS_STORAGE_DIRECTORY="${TMP_DIR}/hypothesis"

print_table
if ((${#paths[@]} == 0 && !user_paths)); then
    echo "no test directories (tests/unit, tests/sandbox, tests/integration): nothing was tested" >&2
    exit 1
fi
log "---- pytest: python -m pytest -n ${workers} --dist loadgroup --durations=25 ${paths[*]:-} ${pytest_args[*]:-}"
rc=0
# --durations: the slowest tests are printed before pytest's summary line (still the last line), so every CI log
# says where the test command's time goes.
python -m pytest -n "${workers}" --dist loadgroup --durations=25 ${paths[@]+"${paths[@]}"} ${pytest_args[@]+"${pytest_args[@]}"} || rc=$?
if ((rc == 5)); then
    echo "pytest collected no tests: that is a failure, not a pass" >&2
    exit 1
fi
((rc > worst)) && worst="${rc}"
exit "${worst}"
