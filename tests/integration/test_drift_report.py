# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report callback and the modulkassa-plan wrapper, over the real emulator, real sshd registers and
real ansible-playbook runs: converge, audit (exit 0), drift in one point attribute and one register binding
(exit 2, the report names exactly those two), restore (exit 0), errors (exit 1), and no secret in any report.

The wrapper is run as users run it: the shell shim ``tools/modulkassa-plan``, with the venv's bin first on PATH.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PlanRun  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
DEMO = ("demo@example.com", "demo-password-1")
HOSTS = ("reg01", "reg02", "reg03")

# The estate, converged and audited by the same playbook (the wrapper is told --check for audits).
PLAYBOOK = """\
- name: Retail points
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Retail points are as declared
      modulkassa.pos.retail_points:
        points: "{{ drift_points }}"

    - name: The manual register's point has a pending code in the sealed file
      modulkassa.pos.retail_point:
        name: "{{ drift_manual_point }}"
        state: active
        code_file: "{{ drift_code_file }}"

- name: Registers
  hosts: reg01:reg02:reg03
  gather_facts: false
  tasks:
    - name: The register serves its declared points
      modulkassa.pos.register:
        retail_points: "{{ drift_register_points[inventory_hostname] }}"
        exclusive: true
"""


class Estate(object):
    """The declared data (an extra-vars file the test edits) and a runner for the wrapper."""

    def __init__(self, tmp_path, cabinet, registers, ansible_env):
        tag = uuid.uuid4().hex[:6]
        self.names = dict((key, "Drift-%s %s" % (tag, key)) for key in "ABCDE")
        self.points = [
            {"name": self.names["A"], "address": "Москва, Тверская 1", "phone": "+7 495 123-45-01",
             "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102},
            {"name": self.names["B"], "address": "Казань, Баумана 5", "inn": "500100732259", "tax_mode": "PATENT"},
            {"name": self.names["C"], "phone": "8 (843) 200-05-05"},
            {"name": self.names["D"], "address": "a register not installed yet"},
            {"name": self.names["E"], "address": "a tablet register without SSH"},
        ]
        self.bindings = {"reg01": [self.names["A"]], "reg02": [self.names["B"]], "reg03": [self.names["C"]]}
        self.tmp_path = tmp_path
        self.cabinet = cabinet
        self.code_file = tmp_path / "sealed-codes.json"
        self.playbook = tmp_path / "estate.yml"
        self.playbook.write_text(PLAYBOOK, encoding="utf-8")
        self.localhost = tmp_path / "localhost.yml"
        self.localhost.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8")
        self.inventory = registers.inventory
        self.env = dict(ansible_env)
        self.env.update({
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            "MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1],
        })
        self.runs = []

    def write_vars(self):
        path = self.tmp_path / "estate-vars.yml"
        path.write_text(yaml.safe_dump({
            "drift_points": self.points, "drift_manual_point": self.names["E"], "drift_code_file": str(self.code_file),
            "drift_register_points": self.bindings}, allow_unicode=True), encoding="utf-8")
        return path

    def plan(self, *args, playbook=None, env=None):
        workdir = self.tmp_path / ("plan-%02d" % (len(self.runs) + 1))
        workdir.mkdir()
        run_env = dict(self.env)
        run_env["MK_TEST_RESULTS"] = str(workdir / "results.jsonl")
        run_env.update(env or {})
        command = [str(PLAN), "--report-dir", str(workdir / "report"), str(playbook or self.playbook),
                   "-i", str(self.localhost), "-i", str(self.inventory), "-e", "@%s" % self.write_vars()] + list(args)
        process = subprocess.run(command, cwd=workdir, env=run_env, capture_output=True, text=True, timeout=240,
                                 check=False)
        run = PlanRun.read(process, workdir / "report")
        self.runs.append(run)
        return run


def _holder(cabinet, name):
    with cabinet.api(*DEMO) as api:
        points = [p for p in api.get("/api/v1/retail-points").json() if p["name"] == name]
    return (points[0].get("kkmInfo") or {}).get("serialNumber") if points and points[0]["kktStatus"] != "KKT_NOT_PLUGGED" else None


@pytest.mark.slow
def test_plan_exit_codes_and_a_report_that_names_exactly_the_drift(cabinet, registers, ansible_env, tmp_path):
    estate = Estate(tmp_path, cabinet, registers, ansible_env)

    # Converge (apply mode): changes were made, which the wrapper reports as 2, with before -> after.
    run = estate.plan()
    assert run.rc == 2, run.why()
    assert run.report["mode"] == "apply" and run.report["status"] == "drift"
    assert {p["name"] for p in run.report["retail_points"]} == set(estate.names.values())
    assert [r["host"] for r in run.report["registers"]] == list(HOSTS)
    assert [_holder(cabinet, estate.names[k]) for k in "ABC"] == [registers.serial(h) for h in HOSTS]
    assert "report: %s" % (run.report_dir / "drift-report.md") in run.stdout

    # Audit: nothing would change -> 0, and check mode wrote nothing to the cabinet.
    cabinet.reset_counters()
    run = estate.plan("--check")
    assert run.rc == 0, run.why()
    assert (run.report["status"], run.report["mode"], run.report["summary"]["changes"]) == ("no_drift", "check", 0)
    assert cabinet.writes(DEMO[0]) == 0
    assert "no drift" in run.markdown

    # Drift in the data: one attribute of A, one binding of reg02 (D added).
    estate.points[0]["phone"] = "+7 495 123-45-99"
    estate.bindings["reg02"] = [estate.names["B"], estate.names["D"]]
    digests = dict((host, registers.state_digest(host)) for host in HOSTS)
    cabinet.reset_counters()
    run = estate.plan("--check")
    assert run.rc == 2, run.why()
    assert cabinet.writes(DEMO[0]) == 0 and all(registers.state_digest(h) == digests[h] for h in HOSTS)
    report = run.report
    assert (report["status"], report["exit_code"], report["mode"]) == ("drift", 2, "check")
    assert report["summary"]["changes"] == 2
    assert [(p["name"], p["action"], p["changes"]) for p in report["retail_points"]] == [
        (estate.names["A"], "update", {"phone": {"before": "4951234501", "after": "4951234599"}})]
    assert [(r["host"], r["serial"], r["changes"]) for r in report["registers"]] == [
        ("reg02", registers.serial("reg02"),
         {"retail_points": {"before": [estate.names["B"]], "after": sorted([estate.names["B"], estate.names["D"]])}})]
    assert report["other_changes"] == [] and report["failures"] == [] and report["unreachable"] == []
    rows = [line for line in run.markdown.splitlines() if line.startswith("| ") and not line.startswith("| retail point |")
            and not line.startswith("| register |")]
    assert len(rows) == 2, run.markdown
    assert "| phone | `4951234501` | `4951234599` |" in rows[0] and rows[1].startswith("| reg02 |")
    assert "bind %s" % estate.names["D"] in rows[1]

    # Data fixed: back to 0.
    estate.points[0]["phone"] = "+7 495 123-45-01"
    estate.bindings["reg02"] = [estate.names["B"]]
    run = estate.plan("--check")
    assert run.rc == 0, run.why()

    # Errors -> 1: a wrong password (every cabinet task fails) ...
    run = estate.plan("--check", env={"MODULKASSA_PASSWORD": "wrong-password-77"})
    assert run.rc == 1, run.why()
    assert run.report["status"] == "error" and run.report["summary"]["failures"] >= 1
    assert all("refused the credentials" in f["msg"] for f in run.report["failures"])
    assert "wrong-password-77" not in run.markdown + json.dumps(run.report) + run.stdout + run.stderr

    # ... and a register whose sshd is down (unreachable), while the others are still audited.
    registers.cli("stop", "--only", "reg03")
    try:
        run = estate.plan("--check")
    finally:
        registers.cli("start", "--only", "reg03")
    assert run.rc == 1, run.why()
    assert [u["host"] for u in run.report["unreachable"]] == ["reg03"]
    assert run.report["summary"]["changes"] == 0 and "Unreachable hosts (1)" in run.markdown

    # ansible-playbook's own error (a playbook that does not exist) -> 1, and no report is claimed.
    run = estate.plan("--check", playbook=tmp_path / "missing.yml")
    assert run.rc == 1 and "no drift report was written" in run.stderr, run.why()

    # Apply mode again, releasing every binding (other tests share these registers): 2, "changed", unbinds listed.
    estate.bindings = dict((host, []) for host in HOSTS)
    run = estate.plan()
    assert run.rc == 2, run.why()
    assert run.report["mode"] == "apply" and "| before | after |" in run.markdown
    assert [(r["host"], [a["action"] for a in r["actions"]]) for r in run.report["registers"]] == [
        (host, ["unbind"]) for host in HOSTS]
    assert [_holder(cabinet, estate.names[k]) for k in "ABC"] == [None, None, None]

    # No secret in any report: not the cabinet password, not a code redeemed by a register, not the pending one.
    with sqlite3.connect(os.path.join(cabinet.data_dir, "cabinet.sqlite3")) as db:
        codes = [row[0] for row in db.execute("SELECT code FROM spent_codes")]
    pending = json.loads(estate.code_file.read_text())[estate.names["E"]]["code"]
    assert len(codes) >= 3 and pending
    reports = "".join(r.markdown + json.dumps(r.report, ensure_ascii=False) for r in estate.runs)
    for secret in [DEMO[1], pending] + codes:
        assert secret not in reports, "a secret reached a drift report"


@pytest.mark.slow
def test_plan_runs_the_collections_audit_playbook_by_default(cabinet, registers, ansible_env, run_playbook, tmp_path):
    """modulkassa.pos.audit (validate -> points -> registers, in check mode) through the wrapper's default."""
    tag = "Audit-%s" % uuid.uuid4().hex[:6]
    points = [{"name": "%s Тверская 1" % tag, "phone": "+7 495 123-45-01", "inn": "7707083893", "kpp": "773601001"},
              {"name": "%s Невский 28" % tag, "tax_mode": "SIMPLIFIED", "vat_tag": 1105},
              {"name": "%s Баумана 5" % tag},  # declared, served by no register yet
              {"name": "%s Киоск" % tag}]  # a register without SSH: a pending code in the sealed file
    fleet = {"modulkassa_points_purge": False, "modulkassa_points": points,
             "modulkassa_manual_registers": [{"name": "kiosk", "retail_points": [points[3]["name"]]}],
             "modulkassa_code_file": str(tmp_path / "sealed" / "codes.json")}
    bindings = {"reg01": [points[0]["name"]], "reg02": [points[1]["name"]]}
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    (inventory / "registers.yml").write_text(Path(registers.inventory).read_text(), encoding="utf-8")

    def write_data():
        (inventory / "group_vars" / "all" / "fleet.yml").write_text(yaml.safe_dump(fleet, allow_unicode=True), encoding="utf-8")
        for host in registers.hosts:  # the registers this test does not use serve nothing (their bindings are released)
            (inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump(
                {"modulkassa_register_points": bindings.get(host, [])}, allow_unicode=True), encoding="utf-8")

    write_data()
    env = {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]}
    converge = run_playbook(str(REPO_ROOT / "playbooks" / "site.yml"), inventory=str(inventory), env=env)
    assert converge.rc == 0, converge.output_tail()

    plan_env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""), **env)

    def plan(name):
        workdir = tmp_path / name
        workdir.mkdir()
        process = subprocess.run([str(PLAN), "-i", str(inventory)], cwd=workdir, env=plan_env, capture_output=True,
                                 text=True, timeout=240, check=False)
        report = workdir / "drift-report" / "drift-report.json"  # the default report directory, under the cwd
        return process, (json.loads(report.read_text()) if report.exists() else {})

    process, report = plan("clean")
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    assert report["playbook"].endswith("audit.yml") and report["mode"] == "check" and report["status"] == "no_drift"

    points[0]["phone"] = "+7 495 123-45-99"
    bindings["reg02"] = [points[1]["name"], points[2]["name"]]
    write_data()
    cabinet.reset_counters()
    process, report = plan("drift")
    assert process.returncode == 2, process.stdout[-3000:] + process.stderr[-2000:]
    assert cabinet.writes(DEMO[0]) == 0
    assert report["summary"]["changes"] == 2
    assert [(p["name"], p["changes"]) for p in report["retail_points"]] == [
        (points[0]["name"], {"phone": {"before": "4951234501", "after": "4951234599"}})]
    assert [(r["host"], r["changes"]["retail_points"]["after"]) for r in report["registers"]] == [
        ("reg02", sorted([points[1]["name"], points[2]["name"]]))]

    # Leave the shared registers as found: no binding of this test's points.
    bindings.clear()
    write_data()
    release = run_playbook(str(REPO_ROOT / "playbooks" / "registers.yml"), inventory=str(inventory), env=env)
    assert release.rc == 0, release.output_tail()


@pytest.mark.parametrize("playbook,args,mode", [
    (None, [], "check"),                           # the default, modulkassa.pos.audit: every play in check mode
    ("site.yml", [], "apply"),
    ("site.yml", ["--check"], "check"),
])
def test_a_run_that_validation_stops_is_reported_in_the_runs_mode(playbook, args, mode, cabinet, ansible_env, tmp_path):
    """The mode comes from the run (--check, or the plays' check_mode), not from the tasks that ran: here only
    the validation ran, and failed, so no writing task could tell."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "group_vars" / "all" / "fleet.yml").write_text(yaml.safe_dump({"modulkassa_points": [
        {"name": "Shop 1", "inn": "7707083894"}]}), encoding="utf-8")  # a bad INN checksum
    env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               MODULKASSA_URL=cabinet.url, MODULKASSA_LOGIN=DEMO[0], MODULKASSA_PASSWORD=DEMO[1])
    command = [str(PLAN)] + (["--playbook", str(REPO_ROOT / "playbooks" / playbook)] if playbook else [])
    command += ["-i", str(inventory)]
    cabinet.reset_counters()
    process = subprocess.run(command + args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                             check=False)
    assert process.returncode == 1, process.stdout[-3000:] + process.stderr[-2000:]
    report = json.loads((tmp_path / "drift-report" / "drift-report.json").read_text(encoding="utf-8"))
    markdown = (tmp_path / "drift-report" / "drift-report.md").read_text(encoding="utf-8")
    assert (report["mode"], report["status"]) == (mode, "error")
    assert ("check mode (nothing was changed)" if mode == "check" else "apply mode (changes were made)") in markdown
    assert r"modulkassa\_points\[0\].inn: must be 10 or 12 digits" in markdown  # Markdown-escaped
    assert cabinet.counters() == {}
