# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sandbox as the integration tests and the benchmarks drive it: the cabinet emulator, register hosts and
hermetic ansible-playbook runs. Real processes, no mocks.

A plain module, without pytest: ``tests/integration/conftest.py`` wraps these classes in fixtures, and
``bench/lib.py`` imports them (it puts this directory on ``sys.path``). Not a test module (pytest collects
``test_*.py`` only).

* ``Cabinet.start(data_dir)``: ``python -m sandbox cabinet start --port 0`` on a private data dir, a handle on its
  emulator-only endpoints (counters, knobs, health, reset) and direct API clients; ``stop()`` ends it.
* ``Registers.start(data_dir, count, cabinet_url, inventory)``: ``count`` register hosts (one sshd each) and their
  inventory; ``stop()`` ends them.
* ``PlaybookRunner(env).run(playbook, ...)``: one ``ansible-playbook`` run in its own directory with the base
  environment ``hermetic_environ()`` started from; a :class:`PlaybookRun` with rc, output, stats and per-task
  results read from the test-only callback (``callback_plugins/test_results.py``), never from stdout.
* ``PlanRun.read(process, report_dir)``: a ``tools/modulkassa-plan`` run with the drift report it wrote.
* ``with_run_stats(env, path)``: the run's recap and set_stats data (``callback_plugins/run_stats.py``) to ``path``;
  ``published_drift_summary(path)`` reads the ``modulkassa_drift`` summary from it.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"

DEMO = ("demo@example.com", "demo-password-1")
ACCOUNTS = {
    DEMO[0]: DEMO[1],
    "other@example.com": "other-password-2",
    # Used by no test in the background and by no shared fixture: tests that assert an exact request count
    # ("zero requests") use it, so a stray request from another test of the worker cannot touch its counters.
    "quiet@example.com": "quiet-password-3",
    # Only tests/integration/test_export.py: an export writes the whole account, so no other test may add points to it.
    "export@example.com": "export-password-4",
    # Only tests/integration/test_health.py: its health counts cover every point of the account.
    "health@example.com": "health-password-5",
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


class SandboxError(RuntimeError):
    """A sandbox process did not start (the message carries its output and log)."""


class PlaybookTimeout(AssertionError):
    """An ansible-playbook run that did not end in time (it was killed; the message carries its output)."""


def sandbox_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """``python -m sandbox ARGS`` from the repository root (this interpreter)."""
    return subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)


def hermetic_environ() -> dict:
    """This process's environment without ``ANSIBLE_*`` and ``MODULKASSA_*``: nothing from the developer's shell
    decides what a run sees; cabinet settings come only from the caller."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MODULKASSA_"))}


def link_collection(collections_dir: Path) -> Path:
    """``<collections_dir>/ansible_collections/modulkassa/pos``, a symlink to the repository (made atomically), so
    ``modulkassa.pos.*`` resolves from the working tree without a build."""
    namespace_dir = Path(collections_dir) / "ansible_collections" / "modulkassa"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "pos"
    if not (link.is_symlink() and link.resolve() == REPO_ROOT):
        # Made under a unique name and renamed into place: atomic, whatever was there before.
        temp = namespace_dir / ("pos.%s.tmp" % uuid.uuid4().hex)
        temp.symlink_to(REPO_ROOT, target_is_directory=True)
        os.replace(temp, link)
    return link


# ---- the cabinet emulator -----------------------------------------------------------------------------

def start_cabinet(data_dir, accounts=None) -> str:
    """Start an emulator on a fresh port with ``data_dir`` (``accounts``: {login: password}, else the sandbox's
    default accounts); its URL."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    args = ["cabinet", "start", "--data-dir", str(data_dir), "--port", "0"]
    if accounts:
        config = data_dir / "accounts.json"
        config.write_text(json.dumps({"accounts": accounts}), encoding="utf-8")
        args += ["--config", str(config)]
    started = sandbox_cli(*args)
    if started.returncode != 0 or not started.stdout.strip():
        log = data_dir / "cabinet.log"
        raise SandboxError("python -m sandbox cabinet start failed (rc %s)\nstdout: %s\nstderr: %s\nlog: %s" % (
            started.returncode, started.stdout, started.stderr,
            log.read_text(errors="replace")[-3000:] if log.exists() else "(none)"))
    return started.stdout.strip().splitlines()[-1]


class Cabinet:
    """A running emulator: its URL plus helpers for the emulator-only endpoints."""

    @classmethod
    def start(cls, data_dir, accounts=None, timeout: float = 10.0):
        """Start an emulator (``start_cabinet``) and return its handle."""
        return cls(start_cabinet(data_dir, accounts), data_dir, accounts, timeout=timeout)

    def __init__(self, url: str, data_dir: Path, accounts=None, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.data_dir = Path(data_dir)
        self.accounts = dict(accounts or ACCOUNTS)
        self.timeout = timeout
        self._emu = httpx.Client(base_url=self.url, timeout=timeout)
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
        """Back to the knobs the emulator started with (the tests' autouse fixture calls this after every test)."""
        if self.knobs() != self.default_knobs:
            self.knobs(**self.default_knobs)

    def reset(self) -> None:
        """Forget every point, code, device and binding; knobs back to the config file (POST /api/_emu/reset)."""
        self._check(self._emu.post("/api/_emu/reset"))

    def set_health(self, point_id: str, kkt_status: str | None = None, registration_status: str | None = None) -> dict:
        """Set what the cabinet reports about a point (PUT /api/_emu/retail-point/{id}/health); returns the point.

        ``kkt_status`` other than KKT_NOT_PLUGGED needs a register holding the point (the emulator answers 409
        otherwise); ``registration_status`` is the tax-office registration state that decides whether DELETE works.
        """
        body = {key: value for key, value in (("kktStatus", kkt_status),
                                              ("registrationRequestStatus", registration_status)) if value is not None}
        return self._check(self._emu.put("/api/_emu/retail-point/%s/health" % point_id, json=body)).json()

    def api(self, login: str = DEMO[0], password: str | None = None, **options) -> httpx.Client:
        """An httpx.Client with Basic auth for direct reads and set-up writes (closed by ``close()``)."""
        options.setdefault("timeout", self.timeout)
        client = httpx.Client(base_url=self.url, auth=(login, password or self.accounts[login]), **options)
        self._clients.append(client)
        return client

    def seed(self, bodies, login: str = DEMO[0], threads: int = 8) -> None:
        """Create points directly through the API (set-up, not measured); ``bodies`` carry their ids."""
        api = self.api(login, limits=httpx.Limits(max_connections=max(threads, 1)))

        def create(body):
            self._check(api.post("/api/v1/retail-points", json=body))

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(create, bodies))

    def strip_kpp(self, point_id: str) -> None:
        """Store the point without its KPP, behind the API: a legal entity made before the cabinet required a
        KPP (or by another tool), which the API now refuses to create."""
        with sqlite3.connect(str(self.data_dir / "cabinet.sqlite3")) as db:
            body = json.loads(db.execute("SELECT body FROM points WHERE id = ?", (point_id,)).fetchone()[0])
            (body.setdefault("settings", {}).setdefault("egaisSettings", {}))["kpp"] = None
            db.execute("UPDATE points SET body = ? WHERE id = ?", (json.dumps(body, ensure_ascii=False), point_id))

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used so far (user + system), from /proc."""
        try:
            pid = int((self.data_dir / "cabinet.pid").read_text().strip())
            with open("/proc/%d/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
        except (OSError, ValueError, IndexError):
            return 0.0

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join((self.data_dir / "cabinet.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no cabinet.log)"

    def close(self) -> None:
        for client in self._clients + [self._emu]:
            client.close()

    def stop(self) -> None:
        """Close the clients and stop the emulator process."""
        self.close()
        sandbox_cli("cabinet", "stop", "--data-dir", str(self.data_dir))

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise AssertionError("emulator %s %s -> %s: %s" % (
                response.request.method, response.request.url, response.status_code, response.text[:500]))
        return response


# ---- register hosts -----------------------------------------------------------------------------------

def start_registers(data_dir, count, cabinet_url, inventory, base_port, timeout=120):
    """Start ``count`` register hosts (reg01..; one sshd each on 127.0.0.1 from ``base_port``), their agents pointed
    at ``cabinet_url``, and write their inventory to ``inventory``. Hosts that did start are stopped again when the
    start fails: they must not outlive a run whose directory is deleted."""
    started = sandbox_cli("registers", "start", "--data-dir", str(data_dir), "--count", str(count),
                          "--cabinet-url", cabinet_url, "--inventory", str(inventory), "--base-port", str(base_port),
                          timeout=timeout)
    if started.returncode != 0:
        sandbox_cli("registers", "stop", "--data-dir", str(data_dir), timeout=120)
        raise SandboxError("python -m sandbox registers start failed (rc %s)\nstdout: %s\nstderr: %s" % (
            started.returncode, started.stdout, started.stderr))


class Registers(object):
    """Handle on running register hosts: their inventory, homes, serials and the registers CLI."""

    @classmethod
    def start(cls, data_dir, count, cabinet_url, inventory, base_port, timeout=120):
        """Start ``count`` register hosts (``start_registers``) and return their handle."""
        start_registers(data_dir, count, cabinet_url, inventory, base_port, timeout)
        return cls(data_dir, inventory)

    def __init__(self, data_dir, inventory):
        self.data_dir = str(data_dir)
        self.inventory = str(inventory)
        with open(inventory) as handle:
            self.hosts = yaml.safe_load(handle)["all"]["children"]["registers"]["hosts"]
        self.names = sorted(self.hosts)

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

    def inventory_for(self, count, path, host_vars=None):
        """An inventory of the first ``count`` registers (``host_vars``: {name: {var: value}} added)."""
        hosts = {}
        for name in self.names[:count]:
            hosts[name] = dict(self.hosts[name])
            hosts[name].update((host_vars or {}).get(name, {}))
        Path(path).write_text(yaml.safe_dump({"all": {"children": {"registers": {"hosts": hosts}}}},
                                             allow_unicode=True, sort_keys=False))
        return Path(path)

    def forget_bindings(self):
        """Registers as never activated: no state, no device credentials (set-up between runs)."""
        for name in self.names:
            for file_name in ("state.json", "credentials.json"):
                try:
                    os.unlink(os.path.join(self.home(name), file_name))
                except FileNotFoundError:
                    pass

    def stop(self):
        sandbox_cli("registers", "stop", "--data-dir", self.data_dir, timeout=120)


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


def read_results(path: Path):
    """``(stats, tasks)`` from the JSON lines the test-only callback wrote."""
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


@dataclass
class PlanRun:
    """One ``tools/modulkassa-plan`` run: its exit code, output and the drift report it wrote ({} and "" if none)."""
    rc: int
    stdout: str
    stderr: str
    report_dir: Path
    report: dict
    markdown: str

    @classmethod
    def read(cls, process: subprocess.CompletedProcess, report_dir: Path, **more):
        """The run ``process`` was, with the report from ``report_dir``; ``more``: a subclass's own fields."""
        report, markdown = read_drift_report(report_dir)
        return cls(process.returncode, process.stdout, process.stderr, report_dir, report, markdown, **more)

    def why(self) -> str:
        """What an assertion about the run says when it fails: the exit code, the output's tails, the report."""
        return "rc=%s\n%s\n%s\n%s" % (self.rc, self.stdout[-3000:], self.stderr[-2000:], self.markdown)


def read_drift_report(report_dir: Path) -> tuple[dict, str]:
    """The drift report callback's JSON and Markdown in ``report_dir``: {} and "" for a file it did not write."""
    json_file, markdown_file = report_dir / "drift-report.json", report_dir / "drift-report.md"
    report = json.loads(json_file.read_text(encoding="utf-8")) if json_file.exists() else {}
    markdown = markdown_file.read_text(encoding="utf-8") if markdown_file.exists() else ""
    return report, markdown


def with_run_stats(env: dict, path: Path) -> dict:
    """``env`` with the run_stats callback (``callback_plugins/run_stats.py``) beside test_results: the run's recap
    and set_stats data, what AWX keeps of a job, are written to ``path``."""
    return dict(env, ANSIBLE_CALLBACKS_ENABLED="test_results,run_stats", MK_RUN_STATS=str(path))


def read_run_stats(path: Path) -> dict:
    """What the run_stats callback wrote (``{"recap": ..., "custom": ...}``), or {} if the run wrote nothing."""
    path = Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def published_drift_summary(path: Path):
    """The ``modulkassa_drift`` summary the run published with set_stats (global data), from the run_stats file at
    ``path``; None if it published none."""
    return read_run_stats(path).get("custom", {}).get("_run", {}).get("modulkassa_drift")


def inventory_arguments(inventory, workdir: Path) -> list:
    """-i arguments for: None (localhost), a path, a list of paths, a dict (YAML) or inventory text."""
    if inventory is None:
        inventory = LOCAL_INVENTORY
    if isinstance(inventory, (list, tuple)):
        return [arg for item in inventory for arg in inventory_arguments(item, workdir)]
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


def playbook_command(ansible_playbook, playbook, workdir: Path, inventory=None, extra_vars=None, check=False,
                     diff=False, verbosity=0, extra_args=()) -> list:
    """The ansible-playbook command line of one run; ``playbook`` is YAML text, a path or a list of plays."""
    if isinstance(playbook, Path) or (isinstance(playbook, str) and "\n" not in playbook and os.path.exists(playbook)):
        playbook_path = Path(playbook).resolve()
    else:
        playbook_path = workdir / "playbook.yml"
        playbook_path.write_text(playbook if isinstance(playbook, str) else
                                 yaml.safe_dump(playbook, allow_unicode=True, sort_keys=False), encoding="utf-8")
    command = list(ansible_playbook) + [str(playbook_path)] + inventory_arguments(inventory, workdir)
    if extra_vars is not None:
        vars_path = workdir / "extra_vars.json"
        vars_path.write_text(json.dumps(extra_vars), encoding="utf-8")
        command += ["-e", "@%s" % vars_path]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if verbosity:
        command.append("-" + "v" * verbosity)
    return command + list(extra_args)


def integration_environ(collections_path, ansible_home) -> dict:
    """The environment every test's ansible-playbook run starts from: hermetic, the collection on
    ``collections_path``, its own ``ANSIBLE_HOME``, no colour, and the test-only results callback."""
    env = hermetic_environ()
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_HOME": str(ansible_home),
        "ANSIBLE_LOCAL_TEMP": str(Path(ansible_home) / "tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_CALLBACK_PLUGINS": str(TEST_CALLBACK_DIR),
        "ANSIBLE_CALLBACKS_ENABLED": "test_results",
        "PYTHONUNBUFFERED": "1",
    })
    return env



class PlaybookRunner(object):
    """Runs ansible-playbook (``ansible_playbook``: the command that starts it) in fresh directories under
    ``workroot`` with ``env`` (from ``integration_environ``) plus each run's own variables."""

    def __init__(self, ansible_playbook, env, workroot):
        self.ansible_playbook = list(ansible_playbook)
        self.env = dict(env)
        self.workroot = Path(workroot)
        self._count = 0
        self.background_runs = []

    def run(self, playbook, inventory=None, extra_vars=None, check=False, diff=False, verbosity=0, env=None,
            timeout=300, background=False):
        self._count += 1
        workdir = self.workroot / ("run-%02d" % self._count)
        workdir.mkdir()
        results_path = workdir / "results.jsonl"
        command = playbook_command(self.ansible_playbook, playbook, workdir, inventory, extra_vars or None, check,
                                   diff, verbosity)
        run_env = dict(self.env)
        run_env["MK_TEST_RESULTS"] = str(results_path)
        run_env.update({k: str(v) for k, v in (env or {}).items()})

        # cwd = workdir: no ansible.cfg from the repo or the caller's cwd is picked up by accident.
        # A new session, so a timeout kills ansible-playbook and its forks together.
        if background:
            with open(workdir / "stdout", "w") as out, open(workdir / "stderr", "w") as err:
                process = subprocess.Popen(command, cwd=workdir, env=run_env, stdout=out, stderr=err,
                                           stdin=subprocess.DEVNULL, start_new_session=True)
            self.background_runs.append(process)
            return process
        process = subprocess.Popen(command, cwd=workdir, env=run_env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise PlaybookTimeout("ansible-playbook timed out after %ss: %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
                timeout, " ".join(command), stdout[-4000:], stderr[-4000:]))

        stats, tasks = read_results(results_path)
        return PlaybookRun(rc=process.returncode, stdout=stdout, stderr=stderr, command=command,
                           workdir=workdir, stats=stats, tasks=tasks)

    def kill_background_runs(self):
        """Kill the background runs still running (their process group) and reap them."""
        for process in self.background_runs:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=30)
