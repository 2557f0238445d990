#!/usr/bin/env bash
# Prepare a clone for development and CI: .venv with the pinned tools (newest ansible-core), .venv-2.16 with
# ansible-core 2.16 and the test tools (requirements-2.16.txt), and sshd for the register sandbox.
# Idempotent and quick on re-run: the pip step is skipped while requirements*.txt and the Python are
# unchanged (a stamp in .venv records both).
#
#   bash scripts/bootstrap.sh            # MK_PYTHON=/path/to/python3 forces the interpreter
set -euo pipefail
# shellcheck source=scripts/lib.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

did=() # what this run changed, printed at the end

# ---- 1. pick the interpreter -------------------------------------------------------------------
# Prints "MAJOR MINOR MICRO" when $1 runs and can make a venv with pip (Debian's python3 without
# python3-venv has no ensurepip, and a pyenv shim for a version that is not selected exits non-zero).
py_version() {
    "$1" -c 'import sys, venv, ensurepip; print(*sys.version_info[:3])' 2>/dev/null
}

pyenv_root() {
    if command -v pyenv >/dev/null 2>&1; then pyenv root; else echo "${PYENV_ROOT:-${HOME}/.pyenv}"; fi
}

candidates() { # one per line, best sources first
    local c
    for c in python3.14 python3.13 python3.12; do
        command -v "$c" 2>/dev/null || true
    done
    # pyenv installs that are not on PATH (the shims refuse without PYENV_VERSION); newest first.
    local v
    for v in "$(pyenv_root)"/versions/3.1[2-9]*; do
        [[ "${v##*/}" =~ ^3\.[0-9]+\.[0-9]+$ ]] && echo "${v}/bin/python3" # not 3.13.0t, 3.14-dev
    done | sort -rV
    echo /usr/bin/python3
}

pick_python() { # MIN_MINOR [MAX_MINOR] -> path of the newest interpreter 3.MIN_MINOR..3.MAX_MINOR, or nothing
    local min="$1" max="${2:-99}" best="" best_key=0 c ver key major minor micro
    while read -r c; do
        [[ -x "$c" ]] || continue
        ver="$(py_version "$c")" || continue
        read -r major minor micro <<<"${ver}"
        ((major == 3 && minor >= min && minor <= max)) || continue
        key=$((minor * 1000 + micro))
        if ((key > best_key)); then best="$c" best_key="${key}"; fi
    done < <(if ((min <= 11)); then
            printf '%s\n' python3.12 python3.11 python3.10 python3 "$(pyenv_root)"/versions/3.1[0-2].*/bin/python3
        fi
        candidates)
    [[ -n "${best}" ]] && echo "${best}"
}

if [[ -n "${MK_PYTHON:-}" ]]; then
    PY="${MK_PYTHON}"
    py_version "${PY}" >/dev/null || { echo "MK_PYTHON=${PY} does not run or lacks venv/ensurepip" >&2; exit 1; }
elif PY="$(pick_python 12)"; then
    :
elif PY="$(pick_python 11)"; then
    warn "no Python >= 3.12 found; using $(${PY} -V 2>&1) at ${PY}."
    warn "ansible-core 2.20+ needs 3.12, so requirements-dev.txt installs ansible-core 2.19 (environment marker)."
    warn "Install Python 3.12+ (e.g. 'pyenv install 3.13') and re-run for the primary tool set."
else
    echo "no usable Python >= 3.11 with venv/ensurepip found (checked PATH, $(pyenv_root)/versions, /usr/bin/python3)" >&2
    exit 1
fi
PY_VERSION="$("${PY}" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
log "python: ${PY} (${PY_VERSION})"

# ---- 2. + 3. the venvs and their pinned tools ---------------------------------------------------
# ensure_venv DIR PYTHON REQUIREMENTS: DIR is a venv of PYTHON with REQUIREMENTS installed.
# Recreated when it was made by another interpreter (a pyenv upgrade, a 3.11 fallback venv on a machine that now
# has 3.13): mixing interpreters in one venv breaks compiled wheels. pip is skipped while a stamp in DIR (hash of
# the requirements files and the Python version) says nothing changed.
ensure_venv() {
    local dir="$1" py="$2" requirements="$3" want_home have_home="" stamp stamp_file start uv
    want_home="$("${py}" -c 'import os, sys; print(os.path.realpath(sys.base_prefix), "%d.%d.%d" % sys.version_info[:3])')"
    if [[ -x "${dir}/bin/python" ]]; then
        have_home="$("${dir}/bin/python" -c 'import os, sys; print(os.path.realpath(sys.base_prefix), "%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || true)"
    fi
    if [[ "${have_home}" != "${want_home}" ]]; then
        [[ -e "${dir}" ]] && log "replacing ${dir} (was: ${have_home:-broken}, want: ${want_home})"
        rm -rf "${dir}"
        # .venv hosts uv (ensure_uv) so it needs pip; the others are made by uv, without pip: nothing runs pip in
        # them, and ensurepip is most of a venv's creation time.
        if [[ "${dir}" == "${VENV}" ]] || ! uv="$(ensure_uv)" || ! "${uv}" venv --quiet --python "${py}" "${dir}"; then
            "${py}" -m venv "${dir}"
        fi
        did+=("created ${dir##*/} with Python ${want_home##* }")
    fi
    stamp_file="${dir}/.mk-bootstrap-stamp"
    stamp="$(cat "${requirements}" requirements.txt <("${dir}/bin/python" -VV) | sha256sum | cut -d' ' -f1)"
    if [[ -f "${stamp_file}" && "$(cat "${stamp_file}")" == "${stamp}" ]]; then
        log "${requirements} unchanged since the last install into ${dir##*/} (stamp ${stamp:0:12}); pip skipped"
        return 0
    fi
    start="$(now)"
    log "installing ${requirements} into ${dir##*/} ..."
    local installer="pip"
    if uv="$(ensure_uv)"; then
        if "${uv}" pip install --quiet --compile-bytecode --python "${dir}/bin/python" -r "${requirements}"; then
            installer="uv"
        else
            warn "uv could not install ${requirements} (a pip-only mirror?): installing with pip instead"
        fi
    fi
    if [[ "${installer}" == uv ]]; then
        # A broken dependency set must fail here, not as an odd import error in some later gate.
        "${uv}" pip check --quiet --python "${dir}/bin/python"
    else
        "${dir}/bin/python" -m pip install --disable-pip-version-check --quiet -r "${requirements}"
        "${dir}/bin/python" -m pip check --disable-pip-version-check
    fi
    echo "${stamp}" >"${stamp_file}"
    did+=("installed ${requirements} into ${dir##*/} with ${installer} ($(elapsed "${start}")s)")
}

# ensure_uv: prints the path of uv (the installer pinned in requirements-dev.txt), putting it into .venv with pip
# first when it is not there. uv installs the two tool sets in seconds where pip takes over a minute on a fresh
# machine, which is most of a fresh clone's bootstrap. It reads neither pip.conf nor PIP_* variables, so a machine
# that reaches packages only through a pip-configured mirror fails here and the caller falls back to pip; so does
# MK_BOOTSTRAP_PIP=1.
ensure_uv() {
    local pin
    [[ "${MK_BOOTSTRAP_PIP:-0}" == 1 ]] && return 1
    pin="$(grep -E '^uv==' "${REPO_ROOT}/requirements-dev.txt" | head -n1)"
    [[ -n "${pin}" ]] || return 1
    if [[ "$("${VENV}/bin/uv" --version 2>/dev/null)" != "uv ${pin#uv==}"* ]]; then
        "${VENV}/bin/python" -m pip install --disable-pip-version-check --quiet "${pin}" >&2 || {
            warn "could not install ${pin} into ${VENV##*/}: installing with pip instead"
            return 1
        }
    fi
    echo "${VENV}/bin/uv"
}

ensure_venv "${VENV}" "${PY}" requirements-dev.txt

# The oldest supported core (scripts/test.sh's "2.16" steps, bench on 2.16): ansible-core 2.16 runs its controller
# on Python 3.10-3.12. Python 3.11 first (the machine's, and what AAP's 2.16 execution environments run), else the
# newest 3.10-3.12 found. MK_PYTHON_2_16 forces one.
if [[ -n "${MK_PYTHON_2_16:-}" ]]; then
    PY_216="${MK_PYTHON_2_16}"
elif ! PY_216="$(pick_python 11 11)" && ! PY_216="$(pick_python 10 12)"; then
    PY_216=""
fi
if [[ -n "${PY_216}" ]]; then
    log "python for ansible-core 2.16: ${PY_216} ($("${PY_216}" -V 2>&1))"
    ensure_venv "${VENV_2_16}" "${PY_216}" requirements-2.16.txt
else
    warn "no Python 3.10-3.12 found: no ${VENV_2_16##*/}, so the tests on ansible-core 2.16 cannot run (scripts/test.sh fails them)."
fi

# ---- 4. sshd for the register sandbox ------------------------------------------------------------
# The sandbox starts sshd by hand (no systemd here); it needs the binary and the privilege-separation dir.
if [[ ! -x /usr/sbin/sshd ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        start="$(now)"
        log "installing openssh-server with apt ..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
        did+=("apt-get installed openssh-server ($(elapsed "${start}")s)")
    else
        warn "/usr/sbin/sshd is missing and this is not a root Debian machine: install openssh-server"
        warn "(Debian/Ubuntu: apt-get install openssh-server; Fedora/RHEL: dnf install openssh-server)."
        warn "Tests that need register hosts will fail or skip until then."
    fi
fi
if [[ -x /usr/sbin/sshd && ! -d /run/sshd ]]; then
    if mkdir -p /run/sshd 2>/dev/null; then
        did+=("created /run/sshd")
    else
        warn "cannot create /run/sshd (needs root); sshd refuses to start without it"
    fi
fi

mkdir -p "${TMP_DIR}"

# ---- report ------------------------------------------------------------------------------------
log "venv: ${VENV} ($("${VENV}/bin/python" -V 2>&1), $("${VENV}/bin/ansible" --version 2>/dev/null | head -n1))"
if [[ -x "${VENV_2_16}/bin/ansible" ]]; then
    log "venv: ${VENV_2_16} ($("${VENV_2_16}/bin/python" -V 2>&1), $("${VENV_2_16}/bin/ansible" --version 2>/dev/null | head -n1))"
fi
if ((${#did[@]} == 0)); then
    log "nothing to do: everything was already in place"
else
    for d in "${did[@]}"; do log "did: ${d}"; done
fi
