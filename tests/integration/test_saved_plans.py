# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Saved plans through tools/modulkassa-plan (--out, --apply, --since), over the real emulator, real sshd registers
and real ansible-playbook: the collection's audit and site playbooks, as a GitOps pipeline runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import read_drift_report  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
DEMO = ("demo@example.com", "demo-password-1")


class Estate(object):
    """An inventory directory with fleet data the test edits, and the wrapper run as a pipeline runs it."""

    def __init__(self, tmp_path, cabinet, registers, ansible_env, with_registers=True):
        self.tag = "Plan-%s" % uuid.uuid4().hex[:6]
        self.tmp_path = tmp_path
        self.cabinet = cabinet
        self.registers = registers
        self.points = [{"name": "%s A" % self.tag, "address": "Москва, Тверская 1", "phone": "+7 495 123-45-01"},
                       {"name": "%s B" % self.tag, "address": "Казань, Баумана 5"},
                       {"name": "%s C" % self.tag, "address": "Тверь, Советская 3"}]
        self.bindings = {"reg01": [self.points[0]["name"]]}
        self.inventory = tmp_path / "inventory"
        (self.inventory / "group_vars" / "all").mkdir(parents=True)
        (self.inventory / "host_vars").mkdir()
        if with_registers:  # without: the plays' register hosts are none, which the point cases do not need
            (self.inventory / "registers.yml").write_text(Path(registers.inventory).read_text(), encoding="utf-8")
        self.env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                        MODULKASSA_URL=cabinet.url, MODULKASSA_LOGIN=DEMO[0], MODULKASSA_PASSWORD=DEMO[1])
        self.runs = 0

    def write(self):
        fleet = {"modulkassa_points": self.points, "modulkassa_points_purge": False}
        (self.inventory / "group_vars" / "all" / "fleet.yml").write_text(yaml.safe_dump(fleet, allow_unicode=True),
                                                                        encoding="utf-8")
        for host in self.registers.hosts:
            (self.inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump(
                {"modulkassa_register_points": self.bindings.get(host, [])}, allow_unicode=True), encoding="utf-8")

    def run(self, *args, env=None):
        self.write()
        self.runs += 1
        workdir = self.tmp_path / ("plan-run-%02d" % self.runs)
        workdir.mkdir()
        process = subprocess.run([str(PLAN), "--report-dir", str(workdir / "report")] + list(args)
                                 + ["-i", str(self.inventory)], cwd=workdir, env=dict(self.env, **(env or {})),
                                 capture_output=True, text=True, timeout=600, check=False)
        process.report, process.markdown = read_drift_report(workdir / "report")
        process.record = workdir / "report" / "applied-record.json"
        process.why = "rc=%s\n%s\n%s" % (process.returncode, process.stdout[-4000:], process.stderr[-3000:])
        return process

    def point(self, key):
        name = "%s %s" % (self.tag, key)
        with self.cabinet.api(*DEMO) as api:
            return [p for p in api.get("/api/v1/retail-points").json() if p["name"] == name][0]

    def edit_by_hand(self, key, **fields):
        point = self.point(key)
        with self.cabinet.api(*DEMO) as api:
            answer = api.put("/api/v1/retail-point/%s" % point["id"], json=fields)
            assert answer.status_code < 300, answer.text

    def release(self, run_playbook):
        self.bindings.clear()
        self.write()
        done = run_playbook(str(REPO_ROOT / "playbooks" / "registers.yml"), inventory=str(self.inventory),
                            env={"MODULKASSA_URL": self.cabinet.url, "MODULKASSA_LOGIN": DEMO[0],
                                 "MODULKASSA_PASSWORD": DEMO[1]})
        assert done.rc == 0, done.output_tail()


def _without_timestamp(path):
    document = json.loads(path.read_text())
    document.pop("created_at")
    return document


@pytest.mark.slow
def test_plan_apply_audit_and_a_register_rebound_by_hand(cabinet, registers, ansible_env, run_playbook, tmp_path):
    """The whole path with a register: plan (twice: the same plan), apply, the audit after it; then a plan that
    binds a register, the register rebound by hand, and the apply refused with nothing written."""
    estate = Estate(tmp_path, cabinet, registers, ansible_env)
    plan1, plan1b = tmp_path / "plan1.json", tmp_path / "plan1b.json"

    # plan -> apply -> audit: 0
    first = estate.run("--out", str(plan1))
    assert first.returncode == 2, first.why
    document = json.loads(plan1.read_text())
    assert document["login"] == DEMO[0] and document["collection_version"] and document["desired_digest"]
    planned = dict((p["name"], p) for p in document["points"])
    assert planned[estate.points[0]["name"]]["action"] == "create" and len(planned[estate.points[0]["name"]]["fingerprint"]) == 64
    assert [r["actions"][0]["action"] for r in document["registers"] if r["host"] == "reg01"] == ["bind"]
    text = plan1.read_text()
    assert DEMO[1] not in text and "posLinkToken\": \"" not in text
    again = estate.run("--out", str(plan1b))
    assert again.returncode == 2, again.why
    assert _without_timestamp(plan1) == _without_timestamp(plan1b)  # same inputs, same plan but for the time
    assert plan1.read_bytes().replace(b"\n", b"").split(b'"created_at"')[0] == \
        plan1b.read_bytes().replace(b"\n", b"").split(b'"created_at"')[0]

    applied = estate.run("--apply", str(plan1))
    assert applied.returncode == 0, applied.why
    assert applied.record.exists()
    assert (estate.point("A").get("kkmInfo") or {}).get("serialNumber") == registers.serial("reg01")
    audit = estate.run()
    assert audit.returncode == 0, audit.why

    # plan made with registers -> a register rebound by hand -> refused
    estate.bindings["reg02"] = [estate.points[1]["name"]]
    plan5 = tmp_path / "plan5.json"
    assert estate.run("--out", str(plan5)).returncode == 2
    by_hand = run_playbook("""\
- hosts: reg03
  gather_facts: false
  tasks:
    - modulkassa.pos.register:
        retail_points: ["%s"]
""" % estate.points[1]["name"], inventory=str(estate.inventory),
        env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]})
    assert by_hand.rc == 0, by_hand.output_tail()
    cabinet.reset_counters()
    moved = estate.run("--apply", str(plan5))
    assert moved.returncode == 1 and "reg" in moved.stdout + moved.stderr, moved.why
    assert "saved plan is stale" in moved.stdout + moved.stderr, moved.why
    assert cabinet.writes(DEMO[0]) == 0

    estate.release(run_playbook)


@pytest.mark.slow
def test_hand_edits_data_changes_and_bad_plan_files(cabinet, registers, ansible_env, run_playbook, tmp_path):
    """Points only (no register hosts: these cases are the cabinet's): a planned point edited by hand refuses the
    apply, an unplanned one does not; --since labels where each drift came from; changed data, another account,
    an edited or truncated plan file refuse, with nothing written."""
    estate = Estate(tmp_path, cabinet, registers, ansible_env, with_registers=False)
    estate.write()
    converged = run_playbook(str(REPO_ROOT / "playbooks" / "site.yml"), inventory=str(estate.inventory),
                             env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0],
                                  "MODULKASSA_PASSWORD": DEMO[1]})
    assert converged.rc == 0, converged.output_tail()

    # plan -> a planned point edited by hand -> refused, nothing written, the point named
    estate.points[0]["phone"] = "+7 495 123-45-99"
    estate.points[1]["address"] = "Казань, Баумана 7"
    plan2 = tmp_path / "plan2.json"
    planned = estate.run("--out", str(plan2))
    assert planned.returncode == 2, planned.why
    assert planned.report["retail_points"] and "origin" not in json.dumps(planned.report["retail_points"])  # no record, no label
    estate.edit_by_hand("A", address="Москва, Тверская 9")
    cabinet.reset_counters()
    refused = estate.run("--apply", str(plan2))
    assert refused.returncode == 1, refused.why
    assert cabinet.writes(DEMO[0]) == 0
    assert estate.points[0]["name"] in refused.stdout + refused.stderr and "address" in refused.stdout + refused.stderr
    assert estate.point("B")["address"] == "Казань, Баумана 5"

    # plan -> a point the plan does not write edited by hand -> the apply goes on and leaves it alone
    plan3 = tmp_path / "plan3.json"
    assert estate.run("--out", str(plan3)).returncode == 2
    estate.edit_by_hand("C", address="Тверь, по-ручному 1")
    applied = estate.run("--apply", str(plan3))
    assert applied.returncode == 0, applied.why
    assert estate.point("B")["address"] == "Казань, Баумана 7"
    assert estate.point("C")["address"] == "Тверь, по-ручному 1"
    record = applied.record

    # --since: a hand edit (C, and A's address), a git change (B), and both (A's address edited and declared anew)
    estate.points[1]["address"] = "Казань, Баумана 11"
    estate.edit_by_hand("A", address="Москва, Тверская 15")
    estate.points[0]["address"] = "Москва, Тверская 20"
    since = estate.run("--since", str(record))
    assert since.returncode == 2, since.why
    origins = dict((p["name"], dict((f, c.get("origin")) for f, c in p["changes"].items()))
                   for p in since.report["retail_points"])
    assert origins[estate.points[2]["name"]] == {"address": "cabinet"}, origins
    assert origins[estate.points[1]["name"]] == {"address": "git"}, origins
    assert origins[estate.points[0]["name"]] == {"address": "both"}, origins
    assert "changed in the cabinet outside git" in since.markdown and "changed in git, not yet applied" in since.markdown

    # plan -> the data changes -> refused
    plan4 = tmp_path / "plan4.json"
    assert estate.run("--out", str(plan4)).returncode == 2
    estate.points[2]["phone"] = "+7 482 200-00-00"
    cabinet.reset_counters()
    changed = estate.run("--apply", str(plan4))
    assert changed.returncode == 1 and "desired data changed" in changed.stdout + changed.stderr, changed.why
    assert cabinet.writes(DEMO[0]) == 0
    del estate.points[2]["phone"]

    # another account -> refused; a plan file edited or truncated -> refused before anything runs
    cabinet.reset_counters()
    other = estate.run("--apply", str(plan4), env={"MODULKASSA_LOGIN": "other@example.com",
                                                   "MODULKASSA_PASSWORD": "other-password-2"})
    assert other.returncode == 1 and "made for the account" in other.stdout + other.stderr, other.why
    assert cabinet.writes("other@example.com") == 0 and cabinet.writes(DEMO[0]) == 0
    edited = tmp_path / "edited.json"
    edited.write_text(plan4.read_text().replace(DEMO[0], "someone@example.com"))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(plan4.read_text()[:200])
    for bad, words in ((edited, "changed after it was made"), (truncated, "not JSON")):
        refused = estate.run("--apply", str(bad))
        assert refused.returncode == 1 and words in refused.stderr, refused.why
        assert not refused.report  # nothing ran
