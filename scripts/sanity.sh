#!/usr/bin/env bash
# Static gates, on what actually ships:
#   build    ansible-galaxy collection build -> .tmp/dist/modulkassa-pos-<version>.tar.gz
#   install  ansible-galaxy collection install -> .tmp/collections/ansible_collections/modulkassa/pos
#   content  the tarball holds no development junk (sandbox/, bench/, .venv, caches, archives)
#   ansible-test-sanity  run inside the INSTALLED copy: it checks exactly the files users get
#   ansible-doc  every documented plugin renders
#   ee-introspect  ansible-builder introspect of the INSTALLED copy = requirements.txt + bindep.txt
#   docs-lint  the docs site's guides are generated from docs/*.md and current; antsibull-docs
#              lint-collection-docs --plugin-docs, strict (every reference resolves, no unknown collection)
#   ansible-lint  production profile, from the repo root
#   changelog-lint  antsibull-changelog lint
# Every step prints one PASS/FAIL/SKIP line; the exit status is non-zero when any step failed.
# Needs .venv (bash scripts/bootstrap.sh).
# The step functions below are called through run_step, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
# shellcheck source=scripts/lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"
use_venv

DIST="${TMP_DIR}/dist"
COLLECTIONS="${TMP_DIR}/collections"
INSTALLED="${COLLECTIONS}/ansible_collections/modulkassa/pos"
# The FQCNs in playbooks, ansible-doc and ansible-lint resolve from the installed copy only.
export ANSIBLE_COLLECTIONS_PATH="${COLLECTIONS}"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1 ANSIBLE_FORCE_COLOR=0
# Keep the tools' caches out of the repo and out of the tarball.
export ANSIBLE_LOCAL_TEMP="${TMP_DIR}/ansible-tmp"

failed=0
tarball=""

build() {
    rm -rf "${DIST}"
    ansible-galaxy collection build --force --output-path "${DIST}" .
    tarball="$(ls "${DIST}"/modulkassa-pos-*.tar.gz)"
}

install() {
    rm -rf "${INSTALLED}" # no stale files from an older build
    ansible-galaxy collection install --force --no-deps -p "${COLLECTIONS}" "${tarball}"
    [[ -f "${INSTALLED}/MANIFEST.json" ]]
}

# Paths are relative to the collection root in a galaxy tarball ("plugins/modules/x.py").
FORBIDDEN='^(tests/)?sandbox/|^bench/|(^|/)\.venv[^/]*(/|$)|(^|/)tests/output(/|$)|(^|/)__pycache__(/|$)|(^|/)\.tmp(/|$)|\.tar\.gz$|(^|/)\.hypothesis(/|$)|(^|/)\.pytest_cache(/|$)|(^|/)\.env$|^venv/|(^|/)\.mypy_cache(/|$)|^htmlcov/|^dist/|^drift-report/|^extensions/molecule/|^tests/integration/|^inventories/sandbox/|^scripts/'
content() {
    local listing bad
    listing="$(tar -tzf "${tarball}")"
    indent <<<"${listing}"
    bad="$(echo "${listing}" | grep -E "${FORBIDDEN}" || true)"
    if [[ -n "${bad}" ]]; then
        echo "the tarball ships files it must not (fix build_ignore in galaxy.yml):" >&2
        indent <<<"${bad}" >&2
        return 1
    fi
    echo "$(echo "${listing}" | wc -l) entries, none forbidden"
}

# ansible-test bootstraps pip in each sanity venv with get-pip-<ver>.py from ci-files.testing.ansible.com,
# which this network cannot reach. It uses ~/.ansible/test/cache/get_pip_<ver>.py when present, so we
# put a stand-in there that installs pip from ensurepip + PyPI instead. The version is read from the
# installed ansible-test (2.19 and 2.21 want different ones).
get_pip_stub() {
    local ver cache
    ver="$(python - <<'EOF'
import os, re, ansible_test
src = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
m = re.search(r"default_packages\s*=\s*dict\(\s*pip\s*=\s*'([0-9.]+)'", open(src).read())
print(m.group(1) if m else "")
EOF
)"
    if [[ -z "${ver}" ]]; then
        echo "cannot find the pip version ansible-test wants; look for get_pip in its sources" >&2
        return 1
    fi
    cache="${HOME}/.ansible/test/cache/get_pip_${ver//./_}.py"
    mkdir -p "$(dirname "${cache}")"
    # A real get-pip downloaded elsewhere works offline too: leave it alone.
    if [[ -f "${cache}" ]] && ! grep -q 'modulkassa.pos offline stand-in' "${cache}"; then
        return 0
    fi
    cat >"${cache}" <<'EOF'
# modulkassa.pos offline stand-in for ansible-test's get-pip-<ver>.py (written by scripts/sanity.sh).
# argv = pip install options + the pinned pip; pip itself comes from ensurepip, then from PyPI.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--force-reinstall"] + args)
EOF
}

ansible_test_sanity() {
    get_pip_stub
    # ansible-test lists content with git when it finds a .git in the directory or ANY parent. The
    # installed copy lives under the repo's git-ignored .tmp/, so it would see no files at all ("All
    # targets skipped"). A throwaway repo in the installed copy stops that walk; every shipped file is
    # then "untracked" and checked, except ansible-test's own output (excluded in .git/info/exclude,
    # which is not content itself).
    if [[ ! -d "${INSTALLED}/.git" ]]; then
        git -C "${INSTALLED}" init -q
        echo '/tests/output/' >"${INSTALLED}/.git/info/exclude"
    fi
    (cd "${INSTALLED}" && ansible-test sanity --python "$(venv_python_xy)" --color no)
}

# Plugin directories without user docs of their own.
NO_DOCS='^(action|module_utils|plugin_utils|doc_fragments|terminal|__pycache__)$'
ansible_doc() {
    local dir kind listed files name out count=0 rc=0
    for dir in "${INSTALLED}"/plugins/*/; do
        kind="$(basename "${dir}")"
        [[ "${kind}" =~ ${NO_DOCS} ]] && continue
        [[ "${kind}" == modules ]] && kind=module
        listed="$(ansible-doc -t "${kind}" -l modulkassa.pos --json |
            python -c 'import json, sys; print("\n".join(sorted(json.load(sys.stdin))))')"
        # For one-plugin-per-file types every file must be listed; filter/test files hold many plugins.
        if [[ "${kind}" != filter && "${kind}" != test ]]; then
            files="$(find "${dir}" -maxdepth 1 -name '*.py' ! -name '__init__.py' -printf 'modulkassa.pos.%f\n' |
                sed 's/\.py$//' | sort)"
            for name in $(comm -23 <(echo "${files}") <(echo "${listed}")); do
                echo "FAIL ${kind} ${name}: a plugin file that ansible-doc -l does not list (broken DOCUMENTATION?)"
                rc=1
            done
        elif [[ -z "${listed}" ]] && find "${dir}" -name '*.py' ! -name '__init__.py' | grep -q .; then
            echo "FAIL ${kind}: plugin files present but ansible-doc -l lists nothing"
            rc=1
        fi
        for name in ${listed}; do
            count=$((count + 1))
            if ! out="$(ansible-doc -t "${kind}" "${name}" 2>&1)" || [[ -z "${out}" ]] ||
                grep -qE '\[(ERROR|WARNING)\]' <<<"${out}"; then
                echo "FAIL ${kind} ${name}:"
                indent <<<"${out}"
                rc=1
            else
                echo "ok   ${kind} ${name} ($(wc -l <<<"${out}") lines)"
            fi
        done
    done
    if ((count == 0)); then
        echo "no documented plugins found under ${INSTALLED}/plugins" >&2
        rc=1
    fi
    return "${rc}"
}

# What an execution environment gets for this collection: ansible-builder reads meta/execution-environment.yml of
# the installed copy (a tarball that lost it, or its files, fails here).
ee_introspect() {
    local out="${TMP_DIR}/ee-introspect"
    rm -rf "${out}" && mkdir -p "${out}"
    ansible-builder introspect --write-pip "${out}/requirements.txt" --write-bindep "${out}/bindep.txt" "${COLLECTIONS}"
    python scripts/check_ee_dependencies.py "${out}/requirements.txt" "${out}/bindep.txt" requirements.txt bindep.txt
}

# antsibull-docs lints the repository (it needs galaxy.yml; it copies the collection into a tree of its own) with
# the installed copy's neighbours on ANSIBLE_COLLECTIONS_PATH for the references to ansible.builtin.
docs_lint() {
    python scripts/docsite.py --check
    antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
        --disallow-unknown-collection-refs --check-extra-docs-refs .
}

ansible_lint() {
    # offline (also in .ansible-lint): no galaxy/GitHub lookups, which cannot work here.
    ansible-lint --offline
}

changelog_lint() {
    antsibull-changelog lint
}

if run_step build build; then
    if run_step install install; then
        run_step content content || failed=1
        run_step ansible-test-sanity ansible_test_sanity || failed=1
        run_step ansible-doc ansible_doc || failed=1
        run_step ee-introspect ee_introspect || failed=1
    else
        failed=1
        for s in content ansible-test-sanity ansible-doc ee-introspect; do skip_step "$s" "install failed"; done
    fi
else
    failed=1
    for s in install content ansible-test-sanity ansible-doc ee-introspect; do skip_step "$s" "build failed"; done
fi
run_step docs-lint docs_lint || failed=1
run_step ansible-lint ansible_lint || failed=1
run_step changelog-lint changelog_lint || failed=1

exit "${failed}"
