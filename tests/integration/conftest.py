# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration test fixtures: real ansible-playbook processes against the real sandbox emulator.

No mocks. The classes are in ``harness.py`` (a plain module that bench/ imports too); this file makes them
fixtures:

``collection_root``  session: ``.tmp/it-collections-<worker>/ansible_collections/modulkassa/pos``, a
                     symlink to the repository, so ``modulkassa.pos.*`` resolves from the working tree; or,
                     with ``MK_COLLECTIONS_PATH`` set, the collection installed there (from the tarball).
``cabinet``          session (one emulator per xdist worker): ``python -m sandbox cabinet start --port 0``
                     on a private data dir, stopped at teardown. Knobs are restored after every test.
``registers``        session: ``REGISTER_COUNT`` register hosts (one sshd each) pointed at ``cabinet``.
``run_playbook``     runs ansible-playbook and returns a :class:`PlaybookRun` with rc, stdout, stderr,
                     per-host stats and per-task results (from the test-only callback in
                     ``callback_plugins/test_results.py``, not from stdout).

Everything a worker writes lives in its own directory (xdist worker id / tmp_path_factory), so ``pytest -n 2`` is safe.

Two environment variables point the harness at another installation (scripts/test.sh's 2.16 steps use both):

``MK_COLLECTIONS_PATH``   a collections directory holding ``ansible_collections/modulkassa/pos`` installed from
                          the tarball (``ansible-galaxy collection install -p``): tested instead of the symlink.
``MK_ANSIBLE_PLAYBOOK``   the ``ansible-playbook`` that ``run_playbook`` runs (default: this interpreter's
                          ``python -m ansible.cli.playbook``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (  # noqa: E402
    ACCOUNTS,
    REPO_ROOT,
    Cabinet,
    PlaybookRunner,
    PlaybookTimeout,
    Registers,
    SandboxError,
    integration_environ,
    link_collection,
)


# ---- the collection under test ------------------------------------------------------------------------

def _worker_id() -> str:
    """xdist's worker id ("gw0", ...) or "master"; the same value as xdist's ``worker_id`` fixture, but
    also available when pytest runs with ``-p no:xdist``."""
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


def installed_collections_path() -> Path | None:
    """``MK_COLLECTIONS_PATH``: a collections directory with modulkassa.pos installed from the tarball, or None."""
    value = os.environ.get("MK_COLLECTIONS_PATH")
    return Path(value).resolve() if value else None


def ansible_playbook_command() -> list:
    """The command that starts ansible-playbook: ``MK_ANSIBLE_PLAYBOOK``, else this interpreter's."""
    explicit = os.environ.get("MK_ANSIBLE_PLAYBOOK")
    return [explicit] if explicit else [sys.executable, "-m", "ansible.cli.playbook"]


def pytest_report_header(config):
    """Which core and which copy of the collection this run tests: the 2.16 and the newest runs must say so."""
    installed = installed_collections_path()
    try:
        version = subprocess.run(ansible_playbook_command() + ["--version"], capture_output=True, text=True,
                                 timeout=60, check=False).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError) as exc:
        version = "ansible-playbook did not run: %s" % exc
    return ["integration: %s (%s); modulkassa.pos from %s" % (
        version, " ".join(ansible_playbook_command()),
        "%s (installed)" % installed if installed else "the working tree (symlink)")]


def pytest_collection_modifyitems(session, config, items):
    """Tests marked ``slow`` (a run of 15 s or more on the 2-core CI machine) go first, in their order; the rest keep
    theirs. xdist deals the first tests out in turn to its workers, so the long ones start at once on both and the
    short ones fill in behind them: a long test collected last could run alone on one core at the end of the run, the
    other idle. Only the order changes: every test still runs, on the same fixtures."""
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def collection_root() -> Path:
    """``<collections path>/ansible_collections/modulkassa/pos``: the installed copy named by
    ``MK_COLLECTIONS_PATH``, else a symlink to the repository."""
    installed = installed_collections_path()
    if installed is not None:
        root = installed / "ansible_collections" / "modulkassa" / "pos"
        if root.is_symlink() or not (root / "MANIFEST.json").is_file():
            pytest.fail("MK_COLLECTIONS_PATH=%s holds no installed modulkassa.pos (no %s/MANIFEST.json)" % (
                installed, root), pytrace=False)
        return root
    return link_collection(REPO_ROOT / ".tmp" / ("it-collections-%s" % _worker_id()))


@pytest.fixture(scope="session")
def collections_path(collection_root) -> Path:
    """The directory to put in ANSIBLE_COLLECTIONS_PATH (the one holding ``ansible_collections``)."""
    return collection_root.parents[2]


# ---- the cabinet emulator -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def cabinet(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cabinet")  # unique per worker and per session: a fresh state
    try:
        emulator = Cabinet.start(data_dir, accounts=ACCOUNTS)
    except SandboxError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(autouse=True)
def _restore_cabinet_knobs(request):
    """A test that turns on faults or latency must not leak them into the next test on the same worker."""
    yield
    if "cabinet" in request.fixturenames:
        request.getfixturevalue("cabinet").restore_knobs()


# ---- register hosts -----------------------------------------------------------------------------------

REGISTER_COUNT = 5  # tests/integration/test_faults.py converges 5 registers


@pytest.fixture(scope="session")
def registers(cabinet, tmp_path_factory):
    """``REGISTER_COUNT`` register hosts (reg01..), each its own sshd on 127.0.0.1, agents pointed at ``cabinet``.

    Shared by every test of a worker: tests use points of their own (unique names), never each other's."""
    data_dir = str(tmp_path_factory.mktemp("registers"))
    worker = 0 if _worker_id() == "master" else int(_worker_id().lstrip("gw") or 0)
    regs = Registers.start(data_dir, REGISTER_COUNT, cabinet.url, os.path.join(data_dir, "inventory.yml"),
                           base_port=23000 + 100 * worker)
    yield regs
    regs.stop()


# ---- running playbooks --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def ansible_env(collections_path, tmp_path_factory) -> dict:
    """The environment every ansible-playbook run starts from (tests add to it per run)."""
    return integration_environ(collections_path, tmp_path_factory.mktemp("ansible-home"))


@pytest.fixture
def run_playbook(ansible_env, tmp_path):
    """``run_playbook(playbook, inventory=None, extra_vars=None, check=False, diff=False, verbosity=0,
    env=None, timeout=300, background=False) -> PlaybookRun``. ``playbook`` is YAML text or a path.

    ``background=True`` returns the running ``subprocess.Popen`` instead (its own session; output in
    ``<workdir>/stdout|stderr``); one still running at the end of the test is killed. ``os.killpg(p.pid, ...)``
    does not reach ansible-core 2.19+ workers (they call setsid()): kill a run like a crash with
    ``reliability_helpers.kill_tree``."""
    runner = PlaybookRunner(ansible_playbook_command(), ansible_env, tmp_path)

    def run(*args, **kwargs):
        try:
            return runner.run(*args, **kwargs)
        except PlaybookTimeout as exc:
            pytest.fail(str(exc), pytrace=False)

    yield run
    runner.kill_background_runs()
