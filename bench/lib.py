# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every benchmark shares: its own sandbox, hermetic ansible-playbook runs, and the measurements.

Each benchmark works in a fresh temporary directory: its own emulator (``python -m sandbox cabinet start``),
its own register hosts when it needs them, its own ``ansible.cfg``, collections link, control-path directory
and SSH counter. Nothing from the caller's shell (``ANSIBLE_*``, ``MODULKASSA_*``) reaches a run.

Measured per run (``Runner.run``):

* ``wall_s``: wall-clock seconds of the whole ``ansible-playbook`` process (start-up included: users pay it);
* ``api``: the emulator's request counters for the run, by method and by route (``/api/_emu/counters``);
* ``ssh_execs``: SSH commands the controller ran, counted by a wrapper set as ``ssh_executable`` that logs
  one line per invocation (with pipelining and ControlPersist one invocation is one remote command);
* ``peak_rss_mb``: the largest resident set of any process of the run (``wait4``'s rusage: the controller
  or one of its forked workers, whichever peaked; ssh masters are not counted).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

# The sandbox handles and the playbook command line are the integration tests' harness (one copy).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

import harness  # noqa: E402
from harness import DEMO, LOCAL_INVENTORY, hermetic_environ, link_collection, playbook_command  # noqa: E402

REPO_ROOT = harness.REPO_ROOT
PYTHON = sys.executable

# Same namespace as plugins/module_utils/_point_model.POINT_ID_NAMESPACE: the ids the collection derives.
POINT_ID_NAMESPACE = uuid.UUID("6f1d3c52-9a8e-5b7e-8c41-2d0f6a1e9b73")

# INNs with valid checksums (10 digits with a KPP, 12 digits without one).
_INNS = (("7707083893", "773601001"), ("7814148471", "781401001"), ("6663003127", "666301001"),
         ("500100732259", None))
_TAX_MODES = ("COMMON", "SIMPLIFIED", "SIMPLIFIED_WITH_EXPENSE", "PATENT")


def log(message):
    """Progress goes to stderr; stdout carries only the JSON results."""
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def point_id_for(name, login=DEMO[0]):
    return str(uuid.uuid5(POINT_ID_NAMESPACE, "%s/%s" % (login.strip().lower(), name)))


def declared_points(count, tag="Bench", start=0):
    """``count`` fully specified retail points, as a chain's inventory would declare them (module options)."""
    points = []
    for index in range(start, start + count):
        inn, kpp = _INNS[index % len(_INNS)]
        point = {
            "name": "%s shop %05d" % (tag, index),
            "address": "Moscow, Tverskaya street %d" % index,
            "phone": "+7 (495) %03d-%02d-%02d" % (index // 10000 % 1000, index // 100 % 100, index % 100),
            "inn": inn,
            "tax_mode": _TAX_MODES[index % len(_TAX_MODES)],
            "vat_tag": 1105 if inn.__len__() == 12 else 1102,
            "fiscal_service_enabled": index % 3 == 0,
        }
        if kpp:
            point["kpp"] = kpp
        points.append(point)
    return points


def api_body(point):
    """The cabinet JSON of a declared point (what a hand-written playbook would send), with its uuid5 id."""
    digits = "".join(c for c in point["phone"] if c.isdigit())[-10:]
    settings = {"defaultTaxMode": point["tax_mode"], "defaultVatTag": point["vat_tag"],
                "fiscalServiceEnabled": point["fiscal_service_enabled"]}
    if point.get("kpp"):
        settings["egaisSettings"] = {"kpp": point["kpp"]}
    return {"id": point_id_for(point["name"]), "name": point["name"], "address": point["address"],
            "phone": digits, "inn": point["inn"], "settings": settings}


def by_method(counters):
    """{"GET /route": n, ...} -> {"GET": n, ...}"""
    methods = {}
    for key, count in counters.items():
        method = key.split(" ", 1)[0]
        methods[method] = methods.get(method, 0) + count
    return dict(sorted(methods.items()))


def ratio(baseline, ours):
    """How many times faster ours is (baseline / ours), rounded; None when it cannot be computed."""
    if not baseline or not ours:
        return None
    return round(baseline / ours, 2)


class Emulator(harness.Cabinet):
    """The cabinet emulator of one benchmark, in its own data dir (the default accounts; generous timeouts: a
    benchmark lists and wipes thousands of points)."""

    def __init__(self, workdir):
        data_dir = Path(workdir) / "cabinet"
        super(Emulator, self).__init__(harness.start_cabinet(data_dir), data_dir, timeout=60.0)
        self._api = self.api(DEMO[0], limits=httpx.Limits(max_connections=16))

    def counters(self, login=DEMO[0]):
        return super(Emulator, self).counters(login)

    def wipe(self):
        """Forget every point, code, device and binding; knobs back to the config file."""
        self.reset()

    def list_points(self):
        return self._api.get("/api/v1/retail-points").raise_for_status().json()


class Registers(harness.Registers):
    """``count`` sandbox register hosts (one sshd each) pointed at ``emulator``."""

    def __init__(self, workdir, emulator, count, base_port=24000):
        began = time.monotonic()
        data_dir, inventory = Path(workdir) / "registers-data", Path(workdir) / "registers-all.yml"
        harness.start_registers(data_dir, count, emulator.url, inventory, base_port, timeout=600)
        super(Registers, self).__init__(data_dir, inventory)
        self.start_seconds = round(time.monotonic() - began, 1)


ANSIBLE_CFG = """\
# Written by bench/lib.py: the settings docs/scale.md recommends, the same for our plays and the baselines.
[defaults]
forks = {forks}
gathering = explicit
host_key_checking = False
retry_files_enabled = False
interpreter_python = auto_silent
callbacks_enabled = run_stats
callback_plugins = {callback_dir}
nocolor = True

[ssh_connection]
pipelining = {pipelining}
ssh_args = -o ControlMaster=auto -o ControlPersist=60s
control_path_dir = {control_path_dir}
ssh_executable = {ssh_wrapper}
"""

SSH_WRAPPER = """\
#!/bin/sh
# bench: one line per ssh invocation (the port it targets), then the real ssh.
port=-
for arg; do case "$arg" in Port=*) port="${{arg#Port=}}" ;; esac; done
printf '%s\\n' "$port" >> {log}
exec {ssh} "$@"
"""


class Runner(object):
    """Runs ansible-playbook hermetically in ``workdir`` and measures each run."""

    def __init__(self, workdir, emulator, forks=10, pipelining=True):
        self.workdir = Path(workdir)
        self.emulator = emulator
        link_collection(self.workdir / "collections")
        self.ssh_log = self.workdir / "ssh-execs.log"
        self.ssh_wrapper = self.workdir / "ssh-counting"
        self.ssh_wrapper.write_text(SSH_WRAPPER.format(log=self.ssh_log, ssh=shutil.which("ssh") or "/usr/bin/ssh"))
        self.ssh_wrapper.chmod(0o755)
        self.forks = forks
        self.pipelining = pipelining
        self._runs = 0

    def env(self, control_path_dir):
        env = hermetic_environ()
        # An installed collection has its bytecode cached after the first run; so does the working tree here.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cfg = self.workdir / "ansible.cfg"
        cfg.write_text(ANSIBLE_CFG.format(forks=self.forks, pipelining=self.pipelining,
                                          callback_dir=harness.TEST_CALLBACK_DIR, control_path_dir=control_path_dir,
                                          ssh_wrapper=self.ssh_wrapper))
        env.update({
            "ANSIBLE_CONFIG": str(cfg),
            "ANSIBLE_COLLECTIONS_PATH": str(self.workdir / "collections"),
            "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-home" / "tmp"),
            "MODULKASSA_URL": self.emulator.url,
            "MODULKASSA_LOGIN": DEMO[0],
            "MODULKASSA_PASSWORD": DEMO[1],
        })
        return env

    def run(self, playbook, inventory=None, extra_vars=None, check=False, diff=False, limit=None, timeout=3600,
            label=None):
        """One measured ansible-playbook run from cold SSH masters; returns the measurements."""
        self._runs += 1
        rundir = self.workdir / ("run-%03d%s" % (self._runs, "-" + label if label else ""))
        rundir.mkdir()
        command = playbook_command([str(Path(PYTHON).parent / "ansible-playbook")],
                                   playbook, rundir, inventory if inventory is not None else LOCAL_INVENTORY, extra_vars,
                                   check, diff, extra_args=["--limit", limit] if limit else ())
        control_path_dir = rundir / "cp"
        control_path_dir.mkdir()
        env = self.env(control_path_dir)
        env["MK_RUN_STATS"] = str(rundir / "run-stats.json")  # the recap, from the harness's run_stats callback
        self.ssh_log.write_text("")
        self.emulator.reset_counters()
        emulator_cpu = self.emulator.cpu_seconds()
        outcome = measure(command, env, rundir, timeout)
        emulator_cpu = self.emulator.cpu_seconds() - emulator_cpu
        counters = self.emulator.counters(login=None)
        close_masters(control_path_dir)
        ports = [line for line in self.ssh_log.read_text().splitlines() if line]
        per_port = {}
        for port in ports:
            per_port[port] = per_port.get(port, 0) + 1
        try:
            recap = harness.read_run_stats(rundir / "run-stats.json").get("recap", {})
        except ValueError:
            recap = {}
        account = counters.get(DEMO[0], {})
        result = {
            "rc": outcome["rc"],
            "wall_s": outcome["wall_s"],
            "peak_rss_mb": outcome["peak_rss_mb"],
            "controller_cpu_s": outcome["cpu_s"],
            "emulator_cpu_s": round(emulator_cpu, 2),
            "api_requests": sum(account.values()),
            "api_by_method": by_method(account),
            "api_by_route": dict(sorted(account.items())),
            "device_api_requests": sum(counters.get("<device>", {}).values()),
            "ssh_execs": len(ports),
            "ssh_execs_per_host_max": max(per_port.values()) if per_port else 0,
            "changed": dict((host, counts["changed"]) for host, counts in recap.items()),
            "failed_hosts": sorted(host for host, counts in recap.items() if counts["failures"]),
        }
        if outcome["rc"] != 0:
            result["output_tail"] = outcome["output_tail"]
            log("run %s rc=%s: %s" % (rundir.name, outcome["rc"], outcome["output_tail"][-1500:]))
        return result


def measure(command, env, cwd, timeout):
    """Run ``command``; wall time and the peak RSS of its process tree (largest single process), via wait4.

    With MK_BENCH_PROFILE=1 the run goes under ``py-spy record --subprocesses`` (its numbers are then not
    comparable) and ``profile.txt`` lands in the run's directory: ``python bench/profile_summary.py <it>``.
    """
    out_path = Path(cwd) / "output.log"
    if os.environ.get("MK_BENCH_PROFILE") == "1":
        spy = shutil.which("py-spy", path=str(Path(PYTHON).parent)) or "py-spy"
        command = [spy, "record", "--subprocesses", "--rate", "100", "--format", "raw",
                   "--output", str(Path(cwd) / "profile.txt"), "--"] + list(command)
    with open(out_path, "wb") as out:
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
        timer.start()
        try:
            dummy, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(errors="replace")
    return {"rc": process.returncode, "wall_s": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "output_tail": text[-4000:]}


def close_masters(control_path_dir):
    """End the run's ControlPersist masters (ours to end: this run started them), so every run starts cold."""
    sockets = [p for p in Path(control_path_dir).iterdir()] if Path(control_path_dir).exists() else []
    procs = [subprocess.Popen(["ssh", "-o", "ControlPath=%s" % sock, "-O", "exit", "bench"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for sock in sockets]
    for proc in procs:
        proc.wait(timeout=30)


class Workspace(object):
    """A temporary directory that is removed at the end unless MK_BENCH_KEEP=1."""

    def __init__(self, prefix):
        self.path = Path(tempfile.mkdtemp(prefix="mk-bench-%s-" % prefix))

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("MK_BENCH_KEEP") == "1":
            log("kept %s" % self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def median_run(runs):
    """The run with the median wall time (all wall times kept in ``samples_wall_s``, the worst rc in ``rc``)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["samples_wall_s"] = [r["wall_s"] for r in runs]
    chosen["rc"] = max(r["rc"] for r in runs)
    return chosen


def run_in_workspace(name, bench_class, args):
    """``bench_class(args, workdir).run()`` in a fresh workspace; its ``stop()`` ends what it started, whatever
    happened."""
    with Workspace(name) as workdir:
        bench = bench_class(args, workdir)
        try:
            bench.run()
        finally:
            bench.stop()


def emit(record):
    """One JSON object per case on stdout."""
    sys.stdout.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()


def machine():
    return {"cores": os.cpu_count(), "python": sys.version.split()[0],
            "ansible_core": _ansible_version(), "load_avg_1m": round(os.getloadavg()[0], 2)}


def _ansible_version():
    try:
        from ansible.release import __version__
        return __version__
    except ImportError:
        return None
