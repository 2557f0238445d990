# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Register health against the sandbox: every kktStatus and registrationRequestStatus the cabinet has, set with the
emulator's health endpoint on real points (held by real sshd registers that site.yml bound), then real audits
(modulkassa.pos.audit through tools/modulkassa-plan): the report's health section (counts, one row per finding, what
to do), the exit codes with and without --fail-on-health, the set_stats summary, and no write to the cabinet.

The account is ``health@example.com``, which no other test uses: the counts cover every point of the account.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import published_drift_summary, read_drift_report, with_run_stats  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
SITE = REPO_ROOT / "playbooks" / "site.yml"
ACCOUNT = ("health@example.com", "health-password-5")
RELEASE_ALL = yaml.safe_dump([{"name": "release", "hosts": "registers", "gather_facts": False, "tasks": [
    {"name": "release", "modulkassa.pos.register": {"retail_points": [], "exclusive": True}}]}])

# The points the registers hold, with the kktStatus (and registration) the test gives them after binding.
HELD = {
    "reg01": [("ok", "REGISTERED", None), ("outdated", "POS_VERSION_OUTDATED", None)],
    "reg02": [("not54", "KKT_NOT_ENABLED_FOR_FZ54", None), ("nofn", "FN_NOT_PLUGGED", None)],
    "reg03": [("unregistered", "NOT_REGISTERED", None), ("registering", "NOT_REGISTERED", "OFD_WAIT_RNM")],
}
# One point no register holds per registration state (NOT_EXISTS is what every other point has).
REGISTRATION_STATES = ("DRAFT", "STARTED", "OFD_WAIT_DECL_SIGN", "DECL_SIGNING", "OFD_WAIT_IRUD", "OFD_WAIT_RNM",
                       "OFD_WAIT_REPORT", "REPORT_PRINT_REQUESTED", "REPORT_PRINTED", "REPORT_PRINT_ERROR",
                       "OFD_WAIT_REPORT_SIGN", "REPORT_SIGNING", "OFD_WAIT_FOR_FINAL_RESPONSE", "REGISTERED", "ERROR")
# What the report must say of each point: its findings (state, severity), worst first; none for a healthy one.
EXPECTED_FINDINGS = {
    "ok": [],
    "outdated": [("POS_VERSION_OUTDATED", "warning")],
    "not54": [("KKT_NOT_ENABLED_FOR_FZ54", "critical")],
    "nofn": [("FN_NOT_PLUGGED", "critical")],
    "unregistered": [("NOT_REGISTERED", "critical")],
    "registering": [("OFD_WAIT_RNM", "info")],  # a registration under way speaks for "not registered yet"
    "reg REGISTERED": [],
    "reg ERROR": [("ERROR", "critical")],
    "reg REPORT_PRINT_ERROR": [("REPORT_PRINT_ERROR", "critical")],
}
for _state in REGISTRATION_STATES:
    EXPECTED_FINDINGS.setdefault("reg " + _state, [(_state, "info")])
# Words of the advice a person acts on, per state.
ADVICE = {
    "FN_NOT_PLUGGED": "insert or replace the ФН",
    "POS_VERSION_OUTDATED": "update the МодульКасса app on the register",
    "KKT_NOT_ENABLED_FOR_FZ54": "54-ФЗ",
    "NOT_REGISTERED": "register it in the cabinet",
    "ERROR": "the tax office refused the registration",
    "REPORT_PRINT_ERROR": "send the registration report again",
    "OFD_WAIT_RNM": "wait for the tax office",
}


class Estate(object):
    """The fleet data of this test (an inventory directory) and the points' ids in the cabinet."""

    def __init__(self, tmp_path, cabinet, registers, ansible_env):
        self.tag = "Health-%s" % uuid.uuid4().hex[:6]
        self.cabinet = cabinet
        self.registers = registers
        self.tmp_path = tmp_path
        self.names = {}
        for host, points in HELD.items():
            for key, dummy, dummy in points:
                self.names[key] = "%s %s" % (self.tag, key)
        for state in REGISTRATION_STATES:
            self.names["reg " + state] = "%s reg %s" % (self.tag, state)
        self.points = [{"name": name} for name in self.names.values()]
        self.bindings = dict((host, [self.names[key] for key, dummy, dummy in points]) for host, points in HELD.items())
        self.inventory = tmp_path / "inventory"
        (self.inventory / "group_vars" / "all").mkdir(parents=True)
        (self.inventory / "host_vars").mkdir()
        (self.inventory / "registers.yml").write_text(Path(registers.inventory).read_text(), encoding="utf-8")
        self.cabinet_env = {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": ACCOUNT[0],
                            "MODULKASSA_PASSWORD": ACCOUNT[1]}
        self.plan_env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                             **self.cabinet_env)
        self.runs = 0
        self.registers_via = "ssh"
        self.write_data()

    def write_data(self):
        fleet = {"modulkassa_points_purge": False, "modulkassa_points": self.points,
                 "modulkassa_registers_via": self.registers_via}
        (self.inventory / "group_vars" / "all" / "fleet.yml").write_text(yaml.safe_dump(fleet, allow_unicode=True),
                                                                          encoding="utf-8")
        for host in self.registers.hosts:  # the registers this test does not use serve nothing
            (self.inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump(
                {"modulkassa_register_points": self.bindings.get(host, [])}, allow_unicode=True), encoding="utf-8")

    def ids(self):
        with self.cabinet.api(*ACCOUNT) as api:
            points = api.get("/api/v1/retail-points").json()
        by_name = dict((p["name"], p["id"]) for p in points)
        return dict((key, by_name[name]) for key, name in self.names.items())

    def plan(self, *args):
        """modulkassa.pos.audit through the wrapper, with the test-only run_stats callback (the set_stats data)."""
        self.runs += 1
        workdir = self.tmp_path / ("plan-%02d" % self.runs)
        workdir.mkdir()
        env = dict(with_run_stats(self.plan_env, workdir / "run-stats.json"), MK_TEST_RESULTS=str(workdir / "results.jsonl"))
        process = subprocess.run([str(PLAN)] + list(args) + ["-i", str(self.inventory)], cwd=workdir, env=env,
                                 capture_output=True, text=True, timeout=300, check=False)
        report, markdown = read_drift_report(workdir / "drift-report")
        return process, report, markdown, published_drift_summary(workdir / "run-stats.json")


def _why(process, markdown=""):
    return "rc=%s\n%s\n%s\n%s" % (process.returncode, process.stdout[-3000:], process.stderr[-2000:], markdown)


def _verdict(process):
    lines = [line for line in process.stdout.splitlines() if line.startswith("modulkassa-plan: ") and "; exit " in line]
    return lines[-1] if lines else ""


@pytest.fixture
def released(cabinet, registers, run_playbook):
    """The register hosts are shared by the worker's tests: start from empty registers and leave them so."""
    run = run_playbook(RELEASE_ALL, inventory=registers.inventory,
                       env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": ACCOUNT[0],
                            "MODULKASSA_PASSWORD": ACCOUNT[1]})
    assert run.rc == 0, run.output_tail()
    yield
    run_playbook(RELEASE_ALL, inventory=registers.inventory,
                 env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": ACCOUNT[0], "MODULKASSA_PASSWORD": ACCOUNT[1]})


@pytest.mark.slow
def test_every_health_state_in_the_audit_report_summary_and_exit_codes(cabinet, registers, ansible_env, run_playbook,
                                                                       tmp_path, released):
    estate = Estate(tmp_path, cabinet, registers, ansible_env)
    converge = run_playbook(str(SITE), inventory=str(estate.inventory), env=estate.cabinet_env)
    assert converge.rc == 0, converge.output_tail()
    ids = estate.ids()
    for host, points in HELD.items():
        for key, kkt, registration in points:
            cabinet.set_health(ids[key], kkt_status=kkt, registration_status=registration)
    for state in REGISTRATION_STATES:
        cabinet.set_health(ids["reg " + state], registration_status=state)
    serials = dict((host, registers.serial(host)) for host in HELD)

    # The audit: no drift, so exit 0 although registers are in trouble (health is not drift), and nothing written.
    cabinet.reset_counters()
    process, report, markdown, summary = estate.plan()
    assert process.returncode == 0, _why(process, markdown)
    assert cabinet.writes(ACCOUNT[0]) == 0
    assert (report["status"], report["exit_code"], report["mode"]) == ("no_drift", 0, "check")
    health = report["health"]
    assert (health["severity"], health["trouble"], health["fail_on"], health["failing"]) == (
        "critical", True, None, False)
    assert health["summary"] == {"points": 21, "points_in_trouble": 6, "registers_in_trouble": 3,
                                 "points_informational": 13}
    assert health["counts"]["kkt_status"] == {"FN_NOT_PLUGGED": 1, "KKT_NOT_ENABLED_FOR_FZ54": 1, "KKT_NOT_PLUGGED": 15,
                                              "NOT_REGISTERED": 2, "POS_VERSION_OUTDATED": 1, "REGISTERED": 1}
    expected_registration = dict((state, 1) for state in REGISTRATION_STATES)
    expected_registration.update(NOT_EXISTS=5, OFD_WAIT_RNM=2)
    assert health["counts"]["registration_status"] == expected_registration
    assert health["counts"]["severity"] == {"ok": 2, "info": 13, "warning": 1, "critical": 5}

    # Each point with a finding, with its register (serial and inventory host) and what to do.
    key_of = dict((name, key) for key, name in estate.names.items())
    found = dict((key_of[p["name"]], p) for p in health["points"])
    assert set(found) == set(k for k, findings in EXPECTED_FINDINGS.items() if findings)
    for key, point in found.items():
        assert [(f["state"], f["severity"]) for f in point["findings"]] == EXPECTED_FINDINGS[key], key
        assert point["id"] == ids[key]
        for finding in point["findings"]:
            assert finding["action"] and finding["label"] and finding["known"] is True
            if finding["state"] in ADVICE:
                assert ADVICE[finding["state"]] in finding["action"], (key, finding)
    for host, points in HELD.items():
        for key, dummy, dummy in points:
            if key in found:
                assert (found[key]["register_serial"], found[key]["register_host"]) == (serials[host], host), key
    assert found["reg ERROR"]["register_serial"] is None
    assert [(r["host"], r["serial"], r["severity"], sorted(r["states"])) for r in health["registers"]] == [
        ("reg02", serials["reg02"], "critical", ["FN_NOT_PLUGGED", "KKT_NOT_ENABLED_FOR_FZ54"]),
        ("reg03", serials["reg03"], "critical", ["NOT_REGISTERED"]),
        ("reg01", serials["reg01"], "warning", ["POS_VERSION_OUTDATED"])]

    # The Markdown: the section's title, the counts, one row per finding with the cabinet's words and the advice.
    assert "### Register health: 6 point(s) in trouble on 3 register(s), worst: critical" in markdown
    assert "Health trouble is not drift" in markdown and "exit code **0**" in markdown
    assert "kktStatus (21 point(s)): " in markdown and "`KKT_NOT_PLUGGED` 15" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| %s " % estate.tag)]
    assert len(rows) == 19, markdown  # 6 in trouble + 13 informational, one finding each
    row = [r for r in rows if r.startswith("| %s nofn |" % estate.tag)][0]
    assert row.startswith("| %s nofn | reg02 (`%s`) | kktStatus `FN_NOT_PLUGGED` (ФН не подключен) | critical | "
                          % (estate.tag, serials["reg02"])), row
    assert "insert or replace the ФН" in row
    row = [r for r in rows if r.startswith("| %s reg ERROR |" % estate.tag)][0]
    assert "| (none) | registrationRequestStatus `ERROR` (Ошибка регистрации) | critical |" in row
    assert rows.index([r for r in rows if "| info |" in r][0]) == 6, "trouble first, then the informational rows"

    # The verdict line names the trouble and says it does not fail the run.
    assert _verdict(process) == ("modulkassa-plan: no drift; health: 6 point(s) in trouble on 3 register(s), worst "
                                 "critical (not failing the run: see --fail-on-health); exit 0"), process.stdout

    # set_stats: the same health, states only (no advice text, no secret).
    assert (summary["finished"], summary["status"], summary["exit_code"]) == (True, "no_drift", 0)
    assert summary["health"]["summary"] == health["summary"] and summary["health"]["counts"] == health["counts"]
    assert sorted((p["name"], p["register_serial"], p["register_host"], p["kkt_status"], p["registration_status"],
                   p["severity"]) for p in summary["health"]["points"]) == sorted(
        (p["name"], p["register_serial"], p["register_host"], p["kkt_status"], p["registration_status"], p["severity"])
        for p in health["points"] if p["trouble"])
    assert [(r["host"], r["serial"]) for r in summary["health"]["registers"]] == [
        (r["host"], r["serial"]) for r in health["registers"]]
    assert "insert or replace" not in json.dumps(summary, ensure_ascii=False)
    assert ACCOUNT[1] not in json.dumps(summary) + json.dumps(report) + markdown

    # Opt-in, with drift too: a critical fails the run with 3 (health wins the exit code when asked for), the report
    # says the same exit code, and its status and the verdict line still say drift.
    estate.points[0]["phone"] = "+7 495 123-45-01"
    estate.write_data()
    process, report, markdown, dummy = estate.plan("--fail-on-health=critical")
    assert process.returncode == 3, _why(process, markdown)
    assert (report["status"], report["exit_code"], report["summary"]["changes"]) == ("drift", 3, 1)
    assert report["health"]["failing"] is True
    assert "exit code **3**" in markdown and "Health at or above **critical** fails this run" in markdown
    verdict = _verdict(process)
    assert verdict.startswith("modulkassa-plan: drift: 1 retail point(s) would change; health: "), verdict
    assert verdict.endswith("(at least critical: fails the run); exit 3"), verdict
    del estate.points[0]["phone"]
    estate.write_data()

    # Only a warning left (an outdated app): --fail-on-health=critical passes, the default threshold does not.
    for key in ("not54", "nofn", "unregistered"):
        cabinet.set_health(ids[key], kkt_status="REGISTERED")
    for state in ("ERROR", "REPORT_PRINT_ERROR"):
        cabinet.set_health(ids["reg " + state], registration_status="REGISTERED")
    process, report, markdown, dummy = estate.plan("--fail-on-health=critical")
    assert process.returncode == 0, _why(process, markdown)
    assert (report["health"]["severity"], report["health"]["summary"]["points_in_trouble"]) == ("warning", 1)
    assert _verdict(process).endswith("worst warning (below critical: does not fail the run); exit 0"), process.stdout

    # The default threshold (any trouble), in an audit from the cabinet alone (modulkassa_registers_via: cabinet, no
    # SSH, no listing of the account), with binding drift: reg04 declares a point no register holds, and the outdated
    # point leaves the data (kept: no purge) while reg01 still holds it, so only bindings_audit's one read sees its
    # health. The set_stats summary judges the registers audited from the cabinet as the report does.
    estate.registers_via = "cabinet"
    estate.points = [p for p in estate.points if p["name"] != estate.names["outdated"]]
    estate.bindings["reg01"] = [estate.names["ok"]]
    estate.bindings["reg04"] = [estate.names["reg REGISTERED"]]
    estate.write_data()
    # A pending activation code on the point reg04 declares: the audit reads it (its health is in reg04's entry), and
    # it must reach no report, summary or output.
    code = "%010d" % secrets.randbelow(10 ** 10)
    with cabinet.api(*ACCOUNT) as api:
        api.put("/api/v1/retail-point/%s" % ids["reg REGISTERED"], json={"posLinkToken": code}).raise_for_status()
    cabinet.reset_counters()
    process, report, markdown, summary = estate.plan("--fail-on-health")
    assert process.returncode == 3, _why(process, markdown)
    assert cabinet.writes(ACCOUNT[0]) == 0
    assert (report["status"], sorted(r["host"] for r in report["registers"])) == ("drift", ["reg01", "reg04"])
    assert [(r["host"], r["serial"], r["states"]) for r in report["health"]["registers"]] == [
        ("reg01", serials["reg01"], ["POS_VERSION_OUTDATED"])]
    assert report["health"]["summary"]["points"] == 21  # the 20 declared points and the one reg01 holds
    assert (summary["status"], summary["exit_code"]) == ("drift", 2)
    assert sorted((r["host"], r["serial"], r["verdict"]) for r in summary["registers"]) == [
        ("reg01", serials["reg01"], "changed"), ("reg04", registers.serial("reg04"), "changed")]
    assert [(r["host"], r["serial"], r["states"]) for r in summary["health"]["registers"]] == [
        ("reg01", serials["reg01"], ["POS_VERSION_OUTDATED"])]
    assert summary["health"]["summary"] == report["health"]["summary"]
    published = json.dumps(summary) + json.dumps(report) + markdown + process.stdout + process.stderr
    assert code not in published and ACCOUNT[1] not in published
