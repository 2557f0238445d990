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
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEMO = ("demo@example.com", "demo-password-1")
BENCH_CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"

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


class Emulator(object):
    """The cabinet emulator of one benchmark, in its own data dir."""

    def __init__(self, workdir):
        self.data_dir = Path(workdir) / "cabinet"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = subprocess.run([PYTHON, "-m", "sandbox", "cabinet", "start", "--data-dir", str(self.data_dir),
                                  "--port", "0"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        if started.returncode != 0:
            raise RuntimeError("cabinet start failed: %s %s" % (started.stdout, started.stderr))
        self.url = started.stdout.strip().splitlines()[-1].rstrip("/")
        self._emu = httpx.Client(base_url=self.url, timeout=60.0)
        self._api = httpx.Client(base_url=self.url, auth=DEMO, timeout=60.0,
                                 limits=httpx.Limits(max_connections=16))

    def cpu_seconds(self):
        """CPU time the emulator process has used so far (user + system), from /proc."""
        try:
            pid = int((self.data_dir / "cabinet.pid").read_text().strip())
            with open("/proc/%d/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
        except (OSError, ValueError, IndexError):
            return 0.0

    def counters(self, login=DEMO[0]):
        data = self._emu.get("/api/_emu/counters").raise_for_status().json()
        return data if login is None else data.get(login, {})

    def reset_counters(self):
        self._emu.delete("/api/_emu/counters").raise_for_status()

    def knobs(self, **changes):
        if changes:
            self._emu.put("/api/_emu/knobs", json=changes).raise_for_status()
        return self._emu.get("/api/_emu/knobs").raise_for_status().json()

    def wipe(self):
        """Forget every point, code, device and binding; knobs back to the config file."""
        self._emu.post("/api/_emu/reset").raise_for_status()

    def seed(self, bodies, threads=8):
        """Create points directly through the API (set-up, not measured); ``bodies`` carry their ids."""
        from concurrent.futures import ThreadPoolExecutor

        def create(body):
            self._api.post("/api/v1/retail-points", json=body).raise_for_status()

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(create, bodies))

    def list_points(self):
        return self._api.get("/api/v1/retail-points").raise_for_status().json()

    def stop(self):
        self._emu.close()
        self._api.close()
        subprocess.run([PYTHON, "-m", "sandbox", "cabinet", "stop", "--data-dir", str(self.data_dir)],
                       cwd=REPO_ROOT, capture_output=True, timeout=60)


class Registers(object):
    """``count`` sandbox register hosts (one sshd each) pointed at ``emulator``."""

    def __init__(self, workdir, emulator, count, base_port=24000):
        self.data_dir = Path(workdir) / "registers-data"
        self.inventory = Path(workdir) / "registers-all.yml"
        began = time.monotonic()
        started = subprocess.run([PYTHON, "-m", "sandbox", "registers", "start", "--data-dir", str(self.data_dir),
                                  "--count", str(count), "--cabinet-url", emulator.url,
                                  "--inventory", str(self.inventory), "--base-port", str(base_port)],
                                 cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        if started.returncode != 0:
            self.stop()  # the hosts that did start must not outlive the bench (their directory is deleted)
            raise RuntimeError("registers start failed: %s %s" % (started.stdout, started.stderr))
        self.start_seconds = round(time.monotonic() - began, 1)
        with open(self.inventory) as handle:
            self.hosts = yaml.safe_load(handle)["all"]["children"]["registers"]["hosts"]
        self.names = sorted(self.hosts)

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
            home = self.data_dir / "registers" / name / "home"
            for file_name in ("state.json", "credentials.json"):
                try:
                    (home / file_name).unlink()
                except FileNotFoundError:
                    pass

    def stop(self):
        subprocess.run([PYTHON, "-m", "sandbox", "registers", "stop", "--data-dir", str(self.data_dir)],
                       cwd=REPO_ROOT, capture_output=True, timeout=120)


ANSIBLE_CFG = """\
# Written by bench/lib.py: the settings docs/scale.md recommends, the same for our plays and the baselines.
[defaults]
forks = {forks}
gathering = explicit
host_key_checking = False
retry_files_enabled = False
interpreter_python = auto_silent
callbacks_enabled = bench_stats
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
        namespace_dir = self.workdir / "collections" / "ansible_collections" / "modulkassa"
        namespace_dir.mkdir(parents=True, exist_ok=True)
        link = namespace_dir / "pos"
        if not link.exists():
            link.symlink_to(REPO_ROOT, target_is_directory=True)
        self.ssh_log = self.workdir / "ssh-execs.log"
        self.ssh_wrapper = self.workdir / "ssh-counting"
        self.ssh_wrapper.write_text(SSH_WRAPPER.format(log=self.ssh_log, ssh=shutil.which("ssh") or "/usr/bin/ssh"))
        self.ssh_wrapper.chmod(0o755)
        self.forks = forks
        self.pipelining = pipelining
        self._runs = 0

    def env(self, control_path_dir):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MODULKASSA_"))}
        # An installed collection has its bytecode cached after the first run; so does the working tree here.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cfg = self.workdir / "ansible.cfg"
        cfg.write_text(ANSIBLE_CFG.format(forks=self.forks, pipelining=self.pipelining,
                                          callback_dir=BENCH_CALLBACK_DIR, control_path_dir=control_path_dir,
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
        if isinstance(playbook, Path):  # a playbook of the collection, run where it is (its relative paths hold)
            playbook_path = playbook
        else:
            playbook_path = rundir / "playbook.yml"
            playbook_path.write_text(playbook if isinstance(playbook, str) else
                                     yaml.safe_dump(playbook, allow_unicode=True, sort_keys=False))
        command = [str(Path(PYTHON).parent / "ansible-playbook"), str(playbook_path)]
        if inventory is None:
            inventory = rundir / "localhost.yml"
            inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
                "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
        command += ["-i", str(inventory)]
        if extra_vars is not None:
            vars_path = rundir / "extra_vars.json"
            vars_path.write_text(json.dumps(extra_vars))
            command += ["-e", "@%s" % vars_path]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if limit:
            command += ["--limit", limit]
        control_path_dir = rundir / "cp"
        control_path_dir.mkdir()
        env = self.env(control_path_dir)
        env["MK_BENCH_STATS"] = str(rundir / "stats.json")
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
            stats = json.loads((rundir / "stats.json").read_text())
        except (OSError, ValueError):
            stats = {}
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
            "changed": stats.get("changed", {}),
            "failed_hosts": stats.get("failed_hosts", []),
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
