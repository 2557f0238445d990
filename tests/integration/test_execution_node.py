# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution-node path: jobs run as AWX runs them, ``ansible-runner transmit | ansible-runner worker |
ansible-runner process``, against the sandbox (the real emulator, real sshd registers).

A job is what AWX hands its execution node: a private data directory whose ``project/`` is the chain repository
(``examples/chain-repo``: wrapper playbooks, its ``ansible.cfg`` with the drift report printed at the end of the
output), an ``inventory/`` with the fleet data, and the cabinet credentials as environment variables
(``env/envvars``, as a credential injector makes them). The worker runs in a temporary directory it deletes
afterwards; only what ``process`` receives comes back: events and artifacts. From those alone the test derives
the job's verdict with modulkassa-plan's rules (0 no drift, 2 drift, 1 error), finds the drift summary in the
output, and looks for every secret of the run in every byte that came back.

Then a job sliced as AWX slices it: the inventory's hosts (an explicit localhost and the registers) dealt
round-robin into N slices, each slice a job of its own with ``--limit``, all slices at once; the slice holding
localhost has no register (it converges the points), the others no localhost. The estate must end as declared and a re-run of
the sliced job must change nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHAIN_REPO = REPO_ROOT / "examples" / "chain-repo"
DEMO = ("demo@example.com", "demo-password-1")
HOSTS = ("reg01", "reg02", "reg03")
SUMMARY_RE = re.compile(r"^## ModulKassa drift report: (.+)$", re.MULTILINE)


def _runner():
    """``ansible-runner`` of the core under test (the worker runs the ansible-playbook found beside it)."""
    playbook = os.environ.get("MK_ANSIBLE_PLAYBOOK") or str(Path(sys.executable).parent / "ansible-playbook")
    return [sys.executable, "-m", "ansible_runner"], str(Path(playbook).parent)


@dataclass
class Job:
    """What came back through ``ansible-runner process``: the artifacts directory and what it holds."""

    name: str
    returned: Path  # the process side's private data dir: everything in it came back
    artifacts: Path
    rc: int
    status: str
    events: list
    stdout: str

    @property
    def recap(self):
        """The play recap as the job's ``playbook_on_stats`` event carries it: {counter: {host: n}}."""
        stats = [e["event_data"] for e in self.events if e.get("event") == "playbook_on_stats"]
        assert len(stats) == 1, "%s: %d playbook_on_stats events\n%s" % (self.name, len(stats), self.stdout[-3000:])
        return stats[0]

    @property
    def summary(self):
        """The drift report's Markdown title from the job's output (the callback's display_markdown)."""
        titles = SUMMARY_RE.findall(self.stdout)
        assert len(titles) == 1, "%s: the drift summary is not in the job output\n%s" % (self.name, self.stdout[-3000:])
        return titles[0]

    @property
    def exit_code(self):
        """modulkassa-plan's exit code, from what came back: the job's rc, its recap and the drift summary."""
        recap, summary = self.recap, self.summary
        if self.rc != 0 or self.status != "successful" or any(recap.get(k) for k in ("failures", "dark")):
            return 1
        if summary.startswith("error"):
            return 1
        changed = any(recap.get("changed", {}).values())
        drift = summary not in ("no drift", "no changes")
        assert changed == drift, "%s: the drift summary (%s) disagrees with the recap %s" % (self.name, summary, recap)
        return 2 if drift else 0

    def returned_files(self):
        return sorted(p for p in self.returned.rglob("*") if p.is_file())


class ExecutionNode(object):
    """Builds AWX-style jobs for one estate and runs them through transmit | worker | process."""

    def __init__(self, tmp_path, cabinet, registers, ansible_env):
        self.tmp_path = tmp_path
        self.cabinet = cabinet
        tag = uuid.uuid4().hex[:6]
        self.names = ["Node-%s %d" % (tag, i) for i in range(4)]
        self.points = [{"name": self.names[0], "inn": "7707083893", "kpp": "773601001", "phone": "+7 495 100-00-01"},
                       {"name": self.names[1], "address": "Казань, Баумана 5"},
                       {"name": self.names[2]},
                       {"name": self.names[3], "tax_mode": "SIMPLIFIED"}]
        self.bindings = {"reg01": [self.names[0]], "reg02": [self.names[1]], "reg03": [self.names[2]]}
        source = yaml.safe_load(Path(registers.inventory).read_text(encoding="utf-8"))
        self.host_vars = dict((h, source["all"]["children"]["registers"]["hosts"][h]) for h in HOSTS)
        self.registers = registers
        self.password = DEMO[1]
        self.runner, bin_dir = _runner()
        # The worker's own environment: the harness's hermetic one (collections path, no host key checking), minus
        # its test callback, so the project's ansible.cfg decides the callbacks, as in an EE.
        self.worker_env = dict((k, v) for k, v in ansible_env.items()
                               if k not in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_PLUGINS"))
        self.worker_env["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        self.jobs = []

    def _private_data_dir(self, job_dir):
        """The control node's side: project, inventory and the credentials injected as environment variables."""
        data = job_dir / "private"
        shutil.copytree(CHAIN_REPO, data / "project")  # AWX hands the job its inventory in inventory/
        inventory = data / "inventory"
        (inventory / "group_vars").mkdir(parents=True)
        (inventory / "host_vars").mkdir()
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {
            # an explicit localhost, as chains write it: it is a host like the others when AWX slices
            "hosts": {"localhost": {"ansible_connection": "local",
                                    "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
            "children": {"registers": {"hosts": self.host_vars}}}}), encoding="utf-8")
        (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump(
            {"modulkassa_points": self.points, "modulkassa_points_purge": False}, allow_unicode=True), encoding="utf-8")
        for host in HOSTS:
            (inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump(
                {"modulkassa_register_points": self.bindings.get(host, [])}, allow_unicode=True), encoding="utf-8")
        (data / "env").mkdir()
        (data / "env" / "envvars").write_text(json.dumps({
            "MODULKASSA_URL": self.cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": self.password,
            # the report files stay on the worker (they die with it); what comes back is the printed summary
            "MODULKASSA_DRIFT_REPORT_DIR": str(job_dir / "worker-report"),
        }), encoding="utf-8")
        return data

    def start(self, name, playbook, limit=None):
        """Starts ``transmit | worker | process`` for one job; returns a handle for ``finish``."""
        job_dir = self.tmp_path / name
        job_dir.mkdir()
        data = self._private_data_dir(job_dir)
        returned = job_dir / "returned"
        returned.mkdir()
        transmit = self.runner + ["transmit", str(data), "-p", playbook, "--ident", name]
        if limit:
            transmit += ["--limit", limit]
        pipeline = " | ".join(" ".join(_quote(part) for part in command) for command in (
            transmit, self.runner + ["worker"], self.runner + ["process", str(returned), "--ident", name]))
        process = subprocess.Popen(["bash", "-o", "pipefail", "-c", pipeline], cwd=job_dir, env=self.worker_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        return name, returned, process

    def finish(self, handle, timeout=300):
        name, returned, process = handle
        try:
            printed, errors = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            printed, errors = process.communicate()
            raise AssertionError("job %s timed out\n%s\n%s" % (name, printed[-3000:], errors[-3000:]))
        artifacts = returned / "artifacts" / name
        assert (artifacts / "rc").is_file(), "nothing came back (pipe rc %s)\n%s\n%s" % (
            process.returncode, printed[-3000:], errors[-3000:])
        events = []
        for path in sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0])):
            events.append(json.loads(path.read_text(encoding="utf-8")))
        job = Job(name, returned, artifacts, int((artifacts / "rc").read_text().strip()),
                  (artifacts / "status").read_text().strip(), events,
                  # the worker runs ansible-playbook under a pty: lines end in CR LF
                  "\n".join(e.get("stdout", "") for e in events if e.get("stdout")).replace("\r\n", "\n"))
        # ``process`` exits with the job's rc: what AWX records as the job's result
        assert process.returncode == job.rc, (process.returncode, job.rc, errors[-2000:])
        self.jobs.append(job)
        return job

    def run(self, name, playbook, limit=None):
        return self.finish(self.start(name, playbook, limit))

    def holders(self):
        """{point name: serial of the register holding it (None)} for this estate's points, from the cabinet."""
        with self.cabinet.api(*DEMO) as api:
            points = dict((p["name"], p) for p in api.get("/api/v1/retail-points").json() if p["name"] in self.names)
        return dict((name, ((points[name].get("kkmInfo") or {}).get("serialNumber")
                            if points[name]["kktStatus"] != "KKT_NOT_PLUGGED" else None)) for name in sorted(points))

    def agent_points(self, host):
        status = json.loads(Path(self.registers.home(host), "state.json").read_text(encoding="utf-8"))
        return sorted(b.get("name") for b in status.get("bindings", []) if b.get("name") in self.names)


def _quote(part):
    return "'%s'" % part.replace("'", "'\\''")


def _slices(hosts, count):
    """AWX's job slicing: the inventory's hosts, sorted, dealt round-robin into ``count`` slices."""
    ordered = sorted(hosts)
    return [ordered[index::count] for index in range(count)]


def _secrets(node, cabinet, registers):
    """Every secret of the run: the password, every code the cabinet issued for these points, device credentials."""
    with cabinet.api(*DEMO) as api:
        ids = [p["id"] for p in api.get("/api/v1/retail-points").json() if p["name"] in node.names]
    with sqlite3.connect(os.path.join(cabinet.data_dir, "cabinet.sqlite3")) as db:
        marks = ",".join("?" * len(ids))
        codes = [row[0] for row in db.execute("SELECT code FROM spent_codes WHERE point_id IN (%s)" % marks, ids)]
        serials = [registers.serial(host) for host in HOSTS]
        device = [value for row in db.execute("SELECT login, password FROM devices WHERE serial IN (?, ?, ?)", serials)
                  for value in row]
    return {"password": [DEMO[1]], "codes": codes, "device credentials": device}


@pytest.mark.slow
def test_jobs_through_transmit_worker_process(cabinet, registers, ansible_env, tmp_path):
    node = ExecutionNode(tmp_path, cabinet, registers, ansible_env)

    # Converge from nothing: drift (changes made), the summary in the output, every binding made.
    job = node.run("converge", "site.yml")
    assert job.exit_code == 2 and job.summary.endswith(" changed"), job.stdout[-3000:]
    assert node.holders() == dict((n, registers.serial(h)) for h, names in node.bindings.items() for n in names) | {
        node.names[3]: None}

    # The audit right after it: no drift, and nothing written.
    cabinet.reset_counters()
    job = node.run("audit-clean", "audit.yml")
    assert (job.exit_code, job.summary) == (0, "no drift"), job.stdout[-3000:]
    assert cabinet.writes(DEMO[0]) == 0

    # Drift in git: one attribute, one more binding. The audit says exactly that, writes nothing.
    node.points[0]["phone"] = "+7 495 100-00-99"
    node.bindings["reg02"] = [node.names[1], node.names[3]]
    cabinet.reset_counters()
    job = node.run("audit-drift", "audit.yml")
    assert job.exit_code == 2, job.stdout[-3000:]
    assert job.summary == "1 retail point(s), 1 register(s) would change", job.summary
    assert "| phone | `4951000001` | `4951000099` |" in job.stdout
    assert cabinet.writes(DEMO[0]) == 0

    # A wrong password (the credential, not the data): error, and the wrong password does not come back either.
    node.password = "wrong-password-%s" % uuid.uuid4().hex[:6]
    job = node.run("audit-error", "audit.yml")
    assert job.exit_code == 1 and job.summary.startswith("error"), job.stdout[-3000:]
    wrong_password = node.password
    node.password = DEMO[1]

    # Sliced as AWX slices: the inventory's 4 hosts in 4 slices, all at once. The explicit localhost lands in one
    # slice, which has no register and converges the points (the phone changed above); each other slice binds one
    # register. The data moves reg01's point to reg03 (across slices) and gives reg01 a new one.
    node.bindings = {"reg01": [node.names[3]], "reg02": [node.names[1]], "reg03": [node.names[2], node.names[0]]}
    slices = _slices(("localhost",) + HOSTS, 4)
    assert slices == [["localhost"], ["reg01"], ["reg02"], ["reg03"]]
    handles = [node.start("slice-%d" % (i + 1), "site.yml", limit=",".join(hosts)) for i, hosts in enumerate(slices)]
    sliced = [node.finish(handle) for handle in handles]
    outcomes = [(job.exit_code, job.summary) for job in sliced]
    assert outcomes == [(2, "1 retail point(s) changed"), (2, "1 register(s) changed"), (0, "no changes"),
                        (2, "1 register(s) changed")], outcomes
    with cabinet.api(*DEMO) as api:
        phones = [p.get("phone") for p in api.get("/api/v1/retail-points").json() if p["name"] == node.names[0]]
    assert phones == ["4951000099"]
    expected = {node.names[0]: registers.serial("reg03"), node.names[1]: registers.serial("reg02"),
                node.names[2]: registers.serial("reg03"), node.names[3]: registers.serial("reg01")}
    assert node.holders() == expected
    assert [node.agent_points(h) for h in HOSTS] == [[node.names[3]], [node.names[1]], sorted(node.names[i] for i in (0, 2))]

    # The sliced job again: nothing changes, nothing is written.
    cabinet.reset_counters()
    handles = [node.start("again-%d" % (i + 1), "site.yml", limit=",".join(hosts)) for i, hosts in enumerate(slices)]
    again = [node.finish(handle) for handle in handles]
    assert [(job.exit_code, job.summary) for job in again] == [(0, "no changes")] * 4
    assert cabinet.writes(DEMO[0]) == 0

    # What came back holds no secret, except what ansible-runner itself keeps: the job's environment (the password
    # included) in artifacts/<ident>/command. The events, the output and every other artifact hold none.
    secrets = _secrets(node, cabinet, registers)
    assert len(secrets["codes"]) >= 5 and len(secrets["device credentials"]) >= 3
    secrets["password"].append(wrong_password)
    for job in node.jobs:
        for path in job.returned_files():
            text = path.read_text(encoding="utf-8", errors="replace")
            relative = str(path.relative_to(job.returned))
            for kind, values in secrets.items():
                found = [v for v in values if v and v in text]
                if relative == "artifacts/%s/command" % job.name and kind == "password":
                    # ansible-runner's own record of the command and its environment: documented (docs/security.md)
                    assert found == [node.password if job.name != "audit-error" else wrong_password], relative
                    continue
                assert not found, "%s: the %s came back in %s" % (job.name, kind, relative)
    # Exactly that one file per job holds it: the worker's env/envvars stayed on the (deleted) worker side.
    for job in node.jobs:
        holding = [str(p.relative_to(job.returned)) for p in job.returned_files()
                   if any(v in p.read_text(encoding="utf-8", errors="replace") for v in secrets["password"])]
        assert holding == ["artifacts/%s/command" % job.name], holding

    # Leave the shared registers as found.
    node.bindings = dict((host, []) for host in HOSTS)
    assert node.run("release", "registers.yml").exit_code == 2
