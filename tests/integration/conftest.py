# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration test harness: real ansible-playbook processes against the real sandbox emulator.

No mocks. Fixtures:

``collection_root``  session: ``.tmp/it-collections-<worker>/ansible_collections/modulkassa/pos``, a
                     symlink to the repository, so ``modulkassa.pos.*`` resolves from the working tree; or,
                     with ``MK_COLLECTIONS_PATH`` set, the collection installed there (from the tarball).
``cabinet``          session (one emulator per xdist worker): ``python -m sandbox cabinet start --port 0``
                     on a private data dir, stopped at teardown. Knobs are restored after every test.
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

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"

ACCOUNTS = {
    "demo@example.com": "demo-password-1",
    "other@example.com": "other-password-2",
    # Used by no test in the background and by no shared fixture: tests that assert an exact request count
    # ("zero requests") use it, so a stray request from another test of the worker cannot touch its counters.
    "quiet@example.com": "quiet-password-3",
    # Only tests/integration/test_export.py: an export writes the whole account, so no other test may add points to it.
    "export@example.com": "export-password-4",
    # Only tests/integration/test_purge_guards.py: a purge acts on the whole account, so no other test may use it.
    "purge@example.com": "purge-password-5",
}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Default inventory: the cabinet plugins run on the controller, so localhost with the controller's Python.
LOCAL_INVENTORY = {
    "all": {"hosts": {"localhost": {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
    }}}
}


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
    namespace_dir = REPO_ROOT / ".tmp" / ("it-collections-%s" % _worker_id()) / "ansible_collections" / "modulkassa"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "pos"
    if not (link.is_symlink() and link.resolve() == REPO_ROOT):
        # Made under a unique name and renamed into place: atomic, whatever was there before.
        temp = namespace_dir / ("pos.%s.tmp" % uuid.uuid4().hex)
        temp.symlink_to(REPO_ROOT, target_is_directory=True)
        os.replace(temp, link)
    return link


@pytest.fixture(scope="session")
def collections_path(collection_root) -> Path:
    """The directory to put in ANSIBLE_COLLECTIONS_PATH (the one holding ``ansible_collections``)."""
    return collection_root.parents[2]


# ---- the cabinet emulator -----------------------------------------------------------------------------

class Cabinet:
    """A running emulator: its URL plus helpers for the emulator-only endpoints."""

    def __init__(self, url: str, data_dir: Path):
        self.url = url.rstrip("/")
        self.data_dir = data_dir
        self.accounts = dict(ACCOUNTS)
        self._emu = httpx.Client(base_url=self.url, timeout=10.0)
        self._clients: list[httpx.Client] = []
        self.default_knobs = self.knobs()

    def counters(self, login: str | None = None) -> dict:
        """All counters ``{login: {"METHOD /route": n}}``, or one login's ``{"METHOD /route": n}`` ({} if none)."""
        data = self._check(self._emu.get("/api/_emu/counters")).json()
        return data if login is None else data.get(login, {})

    def reset_counters(self) -> None:
        self._check(self._emu.delete("/api/_emu/counters"))

    def writes(self, login: str) -> int:
        """How many POST/PUT/PATCH/DELETE requests ``login`` made since the last reset."""
        return sum(n for key, n in self.counters(login).items() if key.split(" ", 1)[0] in WRITE_METHODS)

    def knobs(self, **changes) -> dict:
        """Read the knobs; with keyword arguments, change those first (PUT /api/_emu/knobs, partial)."""
        if changes:
            self._check(self._emu.put("/api/_emu/knobs", json=changes))
        return self._check(self._emu.get("/api/_emu/knobs")).json()

    def restore_knobs(self) -> None:
        """Back to the knobs the emulator started with (the autouse fixture calls this after every test)."""
        if self.knobs() != self.default_knobs:
            self.knobs(**self.default_knobs)

    def set_health(self, point_id: str, kkt_status: str | None = None, registration_status: str | None = None) -> dict:
        """Set what the cabinet reports about a point (PUT /api/_emu/retail-point/{id}/health); returns the point.

        ``kkt_status`` other than KKT_NOT_PLUGGED needs a register holding the point (the emulator answers 409
        otherwise); ``registration_status`` is the tax-office registration state that decides whether DELETE works.
        """
        body = {key: value for key, value in (("kktStatus", kkt_status),
                                              ("registrationRequestStatus", registration_status)) if value is not None}
        return self._check(self._emu.put("/api/_emu/retail-point/%s/health" % point_id, json=body)).json()

    def api(self, login: str = "demo@example.com", password: str | None = None) -> httpx.Client:
        """An httpx.Client with Basic auth for direct reads (closed at session end)."""
        client = httpx.Client(base_url=self.url, auth=(login, password or self.accounts[login]), timeout=10.0)
        self._clients.append(client)
        return client

    def strip_kpp(self, point_id: str) -> None:
        """Store the point without its KPP, behind the API: a legal entity made before the cabinet required a
        KPP (or by another tool), which the API now refuses to create."""
        with sqlite3.connect(str(self.data_dir / "cabinet.sqlite3")) as db:
            body = json.loads(db.execute("SELECT body FROM points WHERE id = ?", (point_id,)).fetchone()[0])
            (body.setdefault("settings", {}).setdefault("egaisSettings", {}))["kpp"] = None
            db.execute("UPDATE points SET body = ? WHERE id = ?", (json.dumps(body, ensure_ascii=False), point_id))

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join((self.data_dir / "cabinet.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no cabinet.log)"

    def close(self) -> None:
        for client in self._clients + [self._emu]:
            client.close()

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise AssertionError("emulator %s %s -> %s: %s" % (
                response.request.method, response.request.url, response.status_code, response.text[:500]))
        return response


def _sandbox(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def cabinet(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cabinet")  # unique per worker and per session: a fresh state
    config = data_dir / "accounts.json"
    config.write_text(json.dumps({"accounts": ACCOUNTS}), encoding="utf-8")
    started = _sandbox("cabinet", "start", "--data-dir", str(data_dir), "--port", "0", "--config", str(config))
    if started.returncode != 0 or not started.stdout.strip():
        log = data_dir / "cabinet.log"
        pytest.fail("python -m sandbox cabinet start failed (rc %s)\nstdout: %s\nstderr: %s\nlog: %s" % (
            started.returncode, started.stdout, started.stderr,
            log.read_text(errors="replace")[-3000:] if log.exists() else "(none)"), pytrace=False)
    emulator = Cabinet(started.stdout.strip().splitlines()[-1], data_dir)
    try:
        yield emulator
    finally:
        emulator.close()
        _sandbox("cabinet", "stop", "--data-dir", str(data_dir))


@pytest.fixture(autouse=True)
def _restore_cabinet_knobs(request):
    """A test that turns on faults or latency must not leak them into the next test on the same worker."""
    yield
    if "cabinet" in request.fixturenames:
        request.getfixturevalue("cabinet").restore_knobs()


# ---- register hosts -----------------------------------------------------------------------------------

REGISTER_COUNT = 5  # tests/integration/test_faults.py converges 5 registers (issue 6)


class Registers(object):
    """Handle on the running register hosts: their inventory, homes, serials and the registers CLI."""

    def __init__(self, data_dir, inventory):
        self.data_dir = data_dir
        self.inventory = inventory
        with open(inventory) as handle:
            self.hosts = yaml.safe_load(handle)["all"]["children"]["registers"]["hosts"]

    def cli(self, *args):
        return subprocess.run([sys.executable, "-m", "sandbox", "registers"] + list(args) + ["--data-dir", self.data_dir],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True)

    def home(self, name):
        return os.path.join(self.data_dir, "registers", name, "home")

    def state_digest(self, name):
        """A digest of the register's agent files: check mode must leave them byte for byte."""
        digest = hashlib.sha256()
        for file_name in ("state.json", "credentials.json"):
            path = os.path.join(self.home(name), file_name)
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    digest.update(handle.read())
        return digest.hexdigest()

    def serial(self, name):
        return self.hosts[name]["modulkassa_register_serial"]


@pytest.fixture(scope="session")
def registers(cabinet, tmp_path_factory):
    """``REGISTER_COUNT`` register hosts (reg01..), each its own sshd on 127.0.0.1, agents pointed at ``cabinet``.

    Shared by every test of a worker: tests use points of their own (unique names), never each other's."""
    data_dir = str(tmp_path_factory.mktemp("registers"))
    inventory = os.path.join(data_dir, "inventory.yml")
    worker = 0 if _worker_id() == "master" else int(_worker_id().lstrip("gw") or 0)
    subprocess.run([sys.executable, "-m", "sandbox", "registers", "start", "--data-dir", data_dir,
                    "--count", str(REGISTER_COUNT), "--cabinet-url", cabinet.url, "--inventory", inventory,
                    "--base-port", str(23000 + 100 * worker)],
                   cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True)
    regs = Registers(data_dir, inventory)
    yield regs
    subprocess.run([sys.executable, "-m", "sandbox", "registers", "stop", "--data-dir", data_dir],
                   cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


# ---- running playbooks --------------------------------------------------------------------------------

@dataclass(repr=False)
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    command: list
    workdir: Path
    stats: dict = field(default_factory=dict)  # {host: {ok, changed, failed, unreachable, skipped, ...}}
    tasks: list = field(default_factory=list)  # [{play, host, task, action, status, result}] in order

    def __repr__(self) -> str:  # short: pytest prints it in every failed assertion about a run
        return "PlaybookRun(rc=%s, stats=%s, tasks=%s)" % (
            self.rc, self.stats, ["%s/%s:%s" % (t["host"], t["task"], t["status"]) for t in self.tasks])

    def task_results(self, name: str, host: str | None = None) -> list:
        return [t for t in self.tasks if t["task"] == name and (host is None or t["host"] == host)]

    def result(self, name: str, host: str | None = None) -> dict:
        """The result dict of the last run of task ``name`` (on ``host``); fails the test if absent."""
        matches = self.task_results(name, host)
        assert matches, "task %r%s not found; tasks run: %s\n%s" % (
            name, "" if host is None else " on %s" % host, [t["task"] for t in self.tasks], self.output_tail())
        return matches[-1]["result"]

    def output_tail(self, chars: int = 4000) -> str:
        return "rc=%s\n--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s" % (
            self.rc, self.stdout[-chars:], self.stderr[-chars:])


def _read_results(path: Path):
    stats, tasks = {}, []
    if path.exists():
        # split("\n"), not splitlines(): the callback writes raw Unicode (ensure_ascii=False), and splitlines()
        # would also cut a record at U+2028, U+0085 or \x1c inside a string value.
        for line in filter(None, path.read_text(encoding="utf-8").split("\n")):
            record = json.loads(line)
            if record.pop("type") == "stats":
                stats = record["stats"]
            else:
                tasks.append(record)
    return stats, tasks


def _write_inventory(inventory, workdir: Path) -> list:
    """-i arguments for: None (localhost), a path, a list of paths, a dict (YAML) or inventory text."""
    if inventory is None:
        inventory = LOCAL_INVENTORY
    if isinstance(inventory, (list, tuple)):
        return [arg for item in inventory for arg in _write_inventory(item, workdir)]
    if isinstance(inventory, Path) or (isinstance(inventory, str) and "\n" not in inventory
                                       and os.path.exists(inventory)):
        return ["-i", str(inventory)]
    if isinstance(inventory, str):
        # YAML inventories must end in .yml for the yaml plugin; anything else is tried as INI.
        parsed = yaml.safe_load(inventory)
        path = workdir / ("inventory.yml" if isinstance(parsed, dict) else "inventory.ini")
        path.write_text(inventory, encoding="utf-8")
    else:
        path = workdir / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return ["-i", str(path)]


@pytest.fixture(scope="session")
def ansible_env(collections_path, tmp_path_factory) -> dict:
    """The environment every ansible-playbook run starts from (tests add to it per run)."""
    home = tmp_path_factory.mktemp("ansible-home")
    env = {k: v for k, v in os.environ.items()
           # Hermetic: nothing from the developer's shell decides what a test sees. Cabinet settings come
           # only from the test (env=... or module_defaults), never by accident.
           if not k.startswith(("ANSIBLE_", "MODULKASSA_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "test_results",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def run_playbook(ansible_env, tmp_path):
    """``run_playbook(playbook, inventory=None, extra_vars=None, check=False, diff=False, verbosity=0,
    env=None, timeout=300, background=False) -> PlaybookRun``. ``playbook`` is YAML text or a path.

    ``background=True`` returns the running ``subprocess.Popen`` instead (its own session; output in
    ``<workdir>/stdout|stderr``); one still running at the end of the test is killed. ``os.killpg(p.pid, ...)``
    does not reach ansible-core 2.19+ workers (they call setsid()): kill a run like a crash with
    ``reliability_helpers.kill_tree``."""
    counter = iter(range(1, 10_000))
    background_runs = []

    def run(playbook, inventory=None, extra_vars=None, check=False, diff=False, verbosity=0, env=None,
            timeout=300, background=False):
        workdir = tmp_path / ("run-%02d" % next(counter))
        workdir.mkdir()
        if isinstance(playbook, Path) or (isinstance(playbook, str) and "\n" not in playbook
                                          and os.path.exists(playbook)):
            playbook_path = Path(playbook).resolve()
        else:
            playbook_path = workdir / "playbook.yml"
            playbook_path.write_text(playbook, encoding="utf-8")
        results_path = workdir / "results.jsonl"

        command = ansible_playbook_command() + [str(playbook_path)]
        command += _write_inventory(inventory, workdir)
        if extra_vars:
            vars_path = workdir / "extra_vars.json"
            vars_path.write_text(json.dumps(extra_vars), encoding="utf-8")
            command += ["-e", "@%s" % vars_path]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)

        run_env = dict(ansible_env)
        run_env["MK_TEST_RESULTS"] = str(results_path)
        run_env.update({k: str(v) for k, v in (env or {}).items()})

        # cwd = workdir: no ansible.cfg from the repo or the caller's cwd is picked up by accident.
        # A new session, so a timeout kills ansible-playbook and its forks together.
        if background:
            with open(workdir / "stdout", "w") as out, open(workdir / "stderr", "w") as err:
                process = subprocess.Popen(command, cwd=workdir, env=run_env, stdout=out, stderr=err,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            background_runs.append(process)
            return process
        process = subprocess.Popen(command, cwd=workdir, env=run_env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            pytest.fail("ansible-playbook timed out after %ss: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
                timeout, " ".join(command), stdout[-4000:], stderr[-4000:]), pytrace=False)

        stats, tasks = _read_results(results_path)
        return PlaybookRun(rc=process.returncode, stdout=stdout, stderr=stderr, command=command,
                           workdir=workdir, stats=stats, tasks=tasks)

    yield run
    for process in background_runs:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)
