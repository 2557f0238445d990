# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The binding audit from the cabinet alone (modulkassa_registers_via: cabinet), through tools/modulkassa-plan and the
collection's own playbooks, against the real emulator: no register host, no SSH.

* An inventory of the export's shape (registers as hosts named by serial, ``modulkassa_register_serial``,
  ``modulkassa_register_points``, ``modulkassa_registers_via: cabinet`` in group_vars/registers.yml, no ansible_host)
  audits to exit 0 with no write, two list requests (points, bindings) and no SSH exec.
* Drift (a declared point not on its register), a point held by a register the data does not declare, a declared
  register holding nothing, a serial the cabinet does not know: exit 2, and exactly those register rows.
* site.yml in this mode binds nothing: drift is refused (exit 1, "binding needs SSH"), no drift passes.
* On real register hosts, the SSH audit and the cabinet audit of the same state give the same exit code (0, 2, 1) and
  the same register rows.
* A mixed fleet (one register over SSH, one from the cabinet): site.yml binds the SSH one and audits the other, the
  audit reads each its own way (the register task runs on the SSH register only), one summary counts both.
* ``--limit`` in cabinet mode audits the registers it names, against the whole fleet's data.

Registers audited from the cabinet are fictitious serials here: the device API activates points on them (what a
register's agent does), and they are never reached.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PlanRun, published_drift_summary, read_results, with_run_stats  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
SITE = REPO_ROOT / "playbooks" / "site.yml"
DEMO = ("demo@example.com", "demo-password-1")
LIST = "GET /api/v1/retail-points"

# ssh_executable for every run: counts invocations and fails them, so a run that tried SSH is visible twice.
SSH_TRAP = """#!/bin/sh
echo "$@" >> {log}
exit 255
"""
# The same, passing through to the real ssh (for the runs that do use register hosts).
SSH_COUNTER = """#!/bin/sh
echo "$@" >> {log}
exec ssh "$@"
"""


@dataclass
class AuditRun(PlanRun):
    tasks: list
    ssh_execs: int
    requests: dict
    summary: dict  # the modulkassa_drift the run published with set_stats (None if it published none)

    def rows(self):
        """The report's register rows, as the comparison between the two modes needs them."""
        return [(r["host"], r["serial"], r["changes"], r["actions"]) for r in self.report["registers"]]

    def warnings(self):
        return [w for t in self.tasks for w in (t["result"].get("warnings") or [])]


class Estate(object):
    """A cabinet account's points and an inventory directory of the export's shape, audited through the wrapper."""

    def __init__(self, tmp_path, cabinet, ansible_env, trap_ssh=True):
        self.tag = "CabAudit-%s" % uuid.uuid4().hex[:6]
        self.tmp_path = tmp_path
        self.cabinet = cabinet
        self.api = cabinet.api(*DEMO)
        self.ids = {}
        self.inventory = tmp_path / "inventory"
        self.ssh_log = tmp_path / "ssh-execs.log"
        ssh = tmp_path / "ssh"
        ssh.write_text((SSH_TRAP if trap_ssh else SSH_COUNTER).format(log=self.ssh_log))
        ssh.chmod(0o755)
        self.env = dict(ansible_env)
        self.env.update({
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            "MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1],
            "ANSIBLE_SSH_EXECUTABLE": str(ssh),
        })
        self.runs = 0

    def name(self, key):
        return "%s %s" % (self.tag, key)

    def serial(self, key):
        return "SN-%s-%s" % (self.tag[-6:].upper(), key)

    def create(self, *keys):
        for key in keys:
            point_id = str(uuid.uuid4())
            self.api.post("/api/v1/retail-points", json={"id": point_id, "name": self.name(key)}).raise_for_status()
            self.ids[key] = point_id

    def activate(self, key, serial):
        """What a register's agent does: redeem a fresh code of the point with the register's serial."""
        code = "%010d" % secrets.randbelow(10 ** 10)
        self.api.put("/api/v1/retail-point/%s" % self.ids[key], json={"posLinkToken": code}).raise_for_status()
        httpx.post(self.cabinet.url + "/api/device/v1/activate", timeout=10.0, json={
            "code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "1.0.0"}).raise_for_status()

    def holder(self, key):
        point = self.api.get("/api/v1/retail-point/%s" % self.ids[key]).json()
        return (point.get("kkmInfo") or {}).get("serialNumber") if point["kktStatus"] != "KKT_NOT_PLUGGED" else None

    def write(self, points, registers, hosts=None, via_group="cabinet"):
        """``points``: keys declared in modulkassa_points; ``registers``: {serial: [point keys]} (or {host: ...} with
        ``hosts`` giving each host's own variables, for register hosts that exist)."""
        (self.inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (self.inventory / "group_vars" / "all" / "retail_points.yml").write_text(yaml.safe_dump(
            {"modulkassa_points": [{"name": self.name(key)} for key in points]}, allow_unicode=True), encoding="utf-8")
        group_vars = self.inventory / "group_vars" / "registers.yml"
        if via_group:
            group_vars.write_text(yaml.safe_dump({"modulkassa_registers_via": via_group}), encoding="utf-8")
        elif group_vars.exists():
            group_vars.unlink()
        entries = {}
        for host, keys in registers.items():
            entry = dict(hosts[host]) if hosts else {"modulkassa_register_serial": host}
            entry["modulkassa_register_points"] = [self.name(key) for key in keys]
            entries[host] = entry
        (self.inventory / "registers.yml").write_text(yaml.safe_dump(
            {"all": {"children": {"registers": {"hosts": entries}}}}, allow_unicode=True), encoding="utf-8")

    def plan(self, *args, playbook=None, env=None):
        """``tools/modulkassa-plan -i INVENTORY [playbook] args``: exit code, report, task results, SSH and requests."""
        self.runs += 1
        workdir = self.tmp_path / ("plan-%02d" % self.runs)
        workdir.mkdir()
        run_env = dict(with_run_stats(self.env, workdir / "run-stats.json"),
                       MK_TEST_RESULTS=str(workdir / "results.jsonl"), **(env or {}))
        self.ssh_log.write_text("")
        self.cabinet.reset_counters()
        command = [str(PLAN)] + ([str(playbook)] if playbook else []) + ["-i", str(self.inventory)] + list(args)
        process = subprocess.run(command, cwd=workdir, env=run_env, capture_output=True, text=True, timeout=300,
                                 check=False)
        return AuditRun.read(process, workdir / "drift-report", tasks=read_results(workdir / "results.jsonl")[1],
                             ssh_execs=len([line for line in self.ssh_log.read_text().splitlines() if line.strip()]),
                             requests=self.cabinet.counters(DEMO[0]),
                             summary=published_drift_summary(workdir / "run-stats.json"))


def _bind_row(host, serial, before, after, actions):
    return (host, serial, {"retail_points": {"before": sorted(before), "after": sorted(after)}}, actions)


def _action(action, point_id, name, previous=None):
    # Check mode, as modulkassa.pos.register reports it over SSH: predicted, not done.
    return {"action": action, "id": point_id, "retail_point": name, "previous_register": previous,
            "outcome": "predicted"}


@pytest.mark.slow
def test_exported_inventory_audits_from_the_cabinet_alone(cabinet, ansible_env, tmp_path):
    estate = Estate(tmp_path, cabinet, ansible_env)
    estate.create("A", "B", "C", "D", "E", "F", "G")
    s1, s2, s3, s9 = (estate.serial(k) for k in ("1", "2", "3", "9"))
    estate.activate("A", s1)
    estate.activate("B", s1)
    estate.activate("C", s2)

    # The export's shape, in sync with the cabinet: 0, no write, no SSH, one list for the points and one for the
    # bindings of every register.
    estate.write("ABCDEFG", {s1: ["A", "B"], s2: ["C"], s3: []})
    run = estate.plan()
    assert run.rc == 0, run.why()
    assert (run.report["status"], run.report["mode"], run.report["registers"]) == ("no_drift", "check", [])
    assert (run.summary["status"], run.summary["summary"]["registers"]["unchanged"]) == ("no_drift", 3), run.summary
    assert run.requests == {LIST: 2}, run.requests
    assert run.ssh_execs == 0
    audit = [t for t in run.tasks if t["action"] == "modulkassa.pos.bindings_audit"]
    assert len(audit) == 1 and audit[0]["status"] == "ok", "one audit for the whole play"
    assert audit[0]["result"]["summary"] == {"registers": 3, "drifted": 0, "failed": 0, "undeclared_registers": 0,
                                             "cabinet_points": audit[0]["result"]["summary"]["cabinet_points"]}
    # Besides the audit, only the play's run_once bookkeeping for the drift summary ran on a register host.
    assert [t["action"] for t in run.tasks if t["host"] in (s1, s2, s3) and t["status"] != "skipped"] == [
        "modulkassa.pos.bindings_audit", "ansible.builtin.set_fact"], "no per-register task ran"

    # Drift in the data: D declared for s2, held by nobody -> 2, exactly that row, a bind.
    estate.write("ABCDEFG", {s1: ["A", "B"], s2: ["C", "D"], s3: []})
    run = estate.plan()
    assert run.rc == 2, run.why()
    assert run.rows() == [_bind_row(s2, s2, [estate.name("C")], [estate.name("C"), estate.name("D")],
                                    [_action("bind", estate.ids["D"], estate.name("D"))])]
    assert run.report["summary"]["changes"] == 1 and run.requests == {LIST: 2} and run.ssh_execs == 0
    # The published summary says the same: status, exit code, the register that would change.
    assert (run.summary["status"], run.summary["exit_code"]) == ("drift", 2), run.summary
    assert run.summary["summary"]["registers"] == {"changed": 1, "unchanged": 2, "failed": 0, "unreachable": 0,
                                                   "not_run": 0}, run.summary
    assert run.summary["registers"] == [{"host": s2, "serial": s2, "verdict": "changed"}]

    # A point held by a register the data does not declare (E on s9), no register of the data serving it -> 2, a row
    # for s9 marked as not in the inventory; a declared register holding nothing (s3 declared F) -> its bind, with a
    # warning that the cabinet shows nothing on it.
    estate.activate("E", s9)
    estate.write("ABCDEFG", {s1: ["A", "B"], s2: ["C"], s3: ["F"]})
    run = estate.plan()
    assert run.rc == 2, run.why()
    assert run.rows() == [
        _bind_row(s3, s3, [], [estate.name("F")], [_action("bind", estate.ids["F"], estate.name("F"))]),
        _bind_row(s9, s9, [estate.name("E")], [], [_action("unbind", estate.ids["E"], estate.name("E"), s9)]),
    ]
    assert [r.get("declared") for r in run.report["registers"]] == [None, False]
    assert "| %s (not in the inventory) |" % s9 in run.markdown
    assert any("1 register(s) hold no point in the cabinet ('%s')" % s3 in w for w in run.warnings()), run.warnings()
    assert run.requests == {LIST: 2} and run.ssh_execs == 0

    # A serial the cabinet does not know (a typo), declared for G, which the undeclared s9 holds too: the typo's host
    # gets the rebind from s9, and s9's row keeps only E (G is claimed by a register of the data).
    typo = estate.serial("TYPO")
    estate.activate("G", s9)
    estate.write("ABCDEFG", {s1: ["A", "B"], s2: ["C"], s3: [], typo: ["G"]})
    run = estate.plan()
    assert run.rc == 2, run.why()
    assert run.rows() == [
        _bind_row(s9, s9, [estate.name("E")], [], [_action("unbind", estate.ids["E"], estate.name("E"), s9)]),
        _bind_row(typo, typo, [], [estate.name("G")], [_action("rebind", estate.ids["G"], estate.name("G"), s9)]),
    ]
    assert any("hold no point in the cabinet ('%s')" % typo in w for w in run.warnings())
    assert [estate.holder(k) for k in "ABCEG"] == [s1, s1, s2, s9, s9]  # check mode moved nothing
    assert run.requests == {LIST: 2} and run.ssh_execs == 0

    # Points the data does not declare are not managed: E held by s9 is not drift once modulkassa_points leaves it out.
    estate.write("ABCD", {s1: ["A", "B"], s2: ["C"], s3: []})
    run = estate.plan()
    assert run.rc == 0, run.why()


def test_site_in_cabinet_mode_binds_nothing(cabinet, ansible_env, tmp_path):
    """Apply mode (site.yml) from the cabinet alone: no drift passes, drift is refused before any write."""
    estate = Estate(tmp_path, cabinet, ansible_env)
    estate.create("A", "B")
    s1 = estate.serial("1")
    estate.activate("A", s1)
    estate.write("AB", {s1: ["A"]})
    run = estate.plan(playbook=SITE)
    assert run.rc == 0, run.why()
    assert run.report["mode"] == "apply" and run.ssh_execs == 0

    estate.write("AB", {s1: ["A", "B"]})
    run = estate.plan(playbook=SITE)
    assert run.rc == 1, run.why()
    assert [f["action"] for f in run.report["failures"]] == ["modulkassa.pos.bindings_audit"]
    assert "binding needs SSH" in run.report["failures"][0]["msg"] and s1 in run.report["failures"][0]["msg"]
    assert run.report["registers"] == [] and run.ssh_execs == 0
    assert sum(n for key, n in run.requests.items() if not key.startswith("GET ")) == 0, run.requests
    assert estate.holder("B") is None


@pytest.mark.slow
def test_ssh_and_cabinet_audits_agree_on_the_same_state(cabinet, registers, ansible_env, tmp_path):
    """Real register hosts: the wrapper's exit code and register rows are the same in both modes, state by state."""
    estate = Estate(tmp_path, cabinet, ansible_env, trap_ssh=False)
    estate.create("A", "B", "C")
    hosts = dict((host, registers.hosts[host]) for host in ("reg04", "reg05"))
    serial4, serial5 = registers.serial("reg04"), registers.serial("reg05")

    def declare(reg04, reg05):
        estate.write("ABC", {"reg04": reg04, "reg05": reg05}, hosts=hosts, via_group=None)

    def both():
        ssh = estate.plan()
        from_cabinet = estate.plan("-e", "modulkassa_registers_via=cabinet")
        assert from_cabinet.ssh_execs == 0 and ssh.ssh_execs >= 2, (ssh.ssh_execs, from_cabinet.ssh_execs)
        assert sum(n for key, n in from_cabinet.requests.items() if key.split(" ")[0] != "GET") == 0
        return ssh, from_cabinet

    try:
        # Bound over SSH (apply): also releases whatever an earlier test left on these two registers.
        declare(["A"], ["B"])
        converge = estate.plan(playbook=SITE)
        assert converge.rc in (0, 2), converge.why()
        assert [estate.holder(k) for k in "ABC"] == [serial4, serial5, None]

        ssh, from_cabinet = both()  # no drift
        assert (ssh.rc, from_cabinet.rc) == (0, 0), ssh.why() + from_cabinet.why()

        declare(["A"], ["B", "C"])  # drift in the data: C declared for reg05
        ssh, from_cabinet = both()
        assert (ssh.rc, from_cabinet.rc) == (2, 2), ssh.why() + from_cabinet.why()
        assert ssh.rows() == from_cabinet.rows() == [_bind_row(
            "reg05", serial5, [estate.name("B")], [estate.name("B"), estate.name("C")],
            [_action("bind", estate.ids["C"], estate.name("C"))])]

        declare(["A"], ["B"])  # drift made by hand: A moved to reg05 (its agent learns it from the cabinet)
        estate.activate("A", serial5)
        ssh, from_cabinet = both()
        assert (ssh.rc, from_cabinet.rc) == (2, 2), ssh.why() + from_cabinet.why()
        assert ssh.rows() == from_cabinet.rows() == [
            _bind_row("reg04", serial4, [], [estate.name("A")], [_action("rebind", estate.ids["A"], estate.name("A"), serial5)]),
            _bind_row("reg05", serial5, [estate.name("A"), estate.name("B")], [estate.name("B")],
                      [_action("unbind", estate.ids["A"], estate.name("A"), serial5)]),
        ]

        wrong = {"MODULKASSA_PASSWORD": "wrong-password-77"}  # an error: the cabinet refuses the credentials
        ssh = estate.plan(env=wrong)
        from_cabinet = estate.plan("-e", "modulkassa_registers_via=cabinet", env=wrong)
        assert (ssh.rc, from_cabinet.rc) == (1, 1), ssh.why() + from_cabinet.why()
        assert "wrong-password-77" not in from_cabinet.markdown + json.dumps(from_cabinet.report)
    finally:
        declare([], [])  # leave the shared registers as found
        release = estate.plan(playbook=SITE)
        assert release.rc in (0, 2), release.why()


def test_limit_audits_the_registers_it_names_against_the_whole_fleet(cabinet, ansible_env, tmp_path):
    """--limit in cabinet mode: the registers it names are audited, who holds what is judged over the whole fleet."""
    estate = Estate(tmp_path, cabinet, ansible_env)
    estate.create("A", "B", "C")
    s1, s2 = estate.serial("1"), estate.serial("2")
    estate.activate("A", s1)
    estate.activate("B", s2)
    estate.write("ABC", {s1: ["A"], s2: ["B", "C"]})  # drift on s2 only: C declared, held by nobody

    run = estate.plan("--limit", s1)
    assert run.rc == 0, run.why()
    # s2 is out of the run but in the data: the point it holds is not reported as held by an undeclared register.
    assert run.report["registers"] == [] and run.ssh_execs == 0
    audit = [t for t in run.tasks if t["action"] == "modulkassa.pos.bindings_audit"]
    assert [t["result"]["summary"]["registers"] for t in audit] == [1], audit
    assert run.requests == {LIST: 1}, run.requests  # no points play: localhost is not in the limit

    run = estate.plan("--limit", s2)
    assert run.rc == 2, run.why()
    assert run.rows() == [_bind_row(s2, s2, [estate.name("B")], [estate.name("B"), estate.name("C")],
                                    [_action("bind", estate.ids["C"], estate.name("C"))])]


@pytest.mark.slow
def test_a_mixed_fleet_reads_each_register_its_own_way(cabinet, registers, ansible_env, tmp_path):
    """One register over SSH (reg04), one from the cabinet alone: site binds the first and audits the second."""
    estate = Estate(tmp_path, cabinet, ansible_env, trap_ssh=False)
    estate.create("A", "B", "C")
    serial4, s9 = registers.serial("reg04"), estate.serial("9")
    estate.activate("B", s9)
    hosts = {"reg04": registers.hosts["reg04"],
             s9: {"modulkassa_register_serial": s9, "modulkassa_registers_via": "cabinet"}}  # no address at all

    def declare(reg04, cabinet_register):
        estate.write("ABC", {"reg04": reg04, s9: cabinet_register}, hosts=hosts, via_group=None)

    def register_tasks(run):
        return sorted(set(t["host"] for t in run.tasks if t["action"] == "modulkassa.pos.register"
                          and t["status"] != "skipped"))

    try:
        declare(["A"], ["B"])
        converge = estate.plan(playbook=SITE)
        assert converge.rc == 2, converge.why()  # reg04 bound A over SSH; s9 already holds B
        assert [estate.holder(k) for k in "ABC"] == [serial4, s9, None]
        assert register_tasks(converge) == ["reg04"]
        assert [row[0] for row in converge.rows()] == ["reg04"], converge.why()

        audit = estate.plan()
        assert audit.rc == 0, audit.why()
        assert register_tasks(audit) == ["reg04"] and audit.report["registers"] == []
        assert audit.summary["summary"]["registers"]["unchanged"] == 2, audit.summary

        declare(["A"], ["B", "C"])  # drift on the register read from the cabinet
        audit = estate.plan()
        assert audit.rc == 2, audit.why()
        assert audit.rows() == [_bind_row(s9, s9, [estate.name("B")], [estate.name("B"), estate.name("C")],
                                          [_action("bind", estate.ids["C"], estate.name("C"))])]
        assert register_tasks(audit) == ["reg04"]
        assert audit.summary["registers"] == [{"host": s9, "serial": s9, "verdict": "changed"}], audit.summary
        assert audit.summary["summary"]["registers"]["unchanged"] == 1, audit.summary

        # Apply: reg04 is fine, s9 differs and cannot be bound from the cabinet: refused, nothing written for it.
        converge = estate.plan(playbook=SITE)
        assert converge.rc == 1, converge.why()
        assert "binding needs SSH" in json.dumps(converge.report["failures"])
        assert estate.holder("C") is None
    finally:
        declare([], ["B"])  # leave reg04 as found
        release = estate.plan(playbook=SITE)
        assert release.rc in (0, 2), release.why()
