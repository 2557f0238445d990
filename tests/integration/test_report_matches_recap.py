# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report's verdict agrees with the play recap, on whichever ansible-core runs the tests.

On ansible-core 2.16-2.18 the callback once read result attributes that exist only from 2.19: every result was
lost (the core turned the exception into a warning), and the report said "no drift" with changes pending. The
recap here comes from the harness's own callback (ansible-core's statistics), independent of the drift report;
the verdict it implies (failures or unreachable hosts: error, changes: drift, else no drift) must be the report's,
and modulkassa-plan's exit code the matching one, through check, apply, no-op and failing runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
DEMO = ("demo@example.com", "demo-password-1")
EXIT = {"no_drift": 0, "drift": 2, "error": 1}
HOST = "reg05"

PLAYBOOK = """\
- name: Points
  hosts: localhost
  gather_facts: false
  tasks:
    - name: points
      modulkassa.pos.retail_points:
        points: "{{ recap_points }}"
    - name: an ordinary task that never changes
      ansible.builtin.command: "true"
      changed_when: false
      check_mode: false

- name: Register
  hosts: %s
  gather_facts: false
  tasks:
    - name: bind
      modulkassa.pos.register:
        retail_points: "{{ recap_bound }}"
        state: "{{ recap_state }}"
""" % HOST


def _verdict(stats):
    """The verdict the play recap implies, by the rule modulkassa-plan documents."""
    if any(s["failed"] or s["unreachable"] for s in stats.values()):
        return "error"
    return "drift" if any(s["changed"] for s in stats.values()) else "no_drift"


def _ansible_playbook():
    """The harness's ansible-playbook (conftest: MK_ANSIBLE_PLAYBOOK, else the one of this interpreter's venv)."""
    return os.environ.get("MK_ANSIBLE_PLAYBOOK") or str(Path(sys.executable).parent / "ansible-playbook")


@pytest.mark.slow
def test_the_report_and_the_exit_code_agree_with_the_recap(cabinet, registers, ansible_env, tmp_path):
    tag = "Recap-%s" % uuid.uuid4().hex[:6]
    points = [{"name": "%s %d" % (tag, i), "inn": "7707083893", "kpp": "773601001"} for i in range(2)]
    localhost = tmp_path / "localhost.ini"
    localhost.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    playbook = tmp_path / "estate.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    env = dict(ansible_env, MODULKASSA_URL=cabinet.url, MODULKASSA_LOGIN=DEMO[0], MODULKASSA_PASSWORD=DEMO[1],
               MODULKASSA_PYTHON=sys.executable, MODULKASSA_ANSIBLE_PLAYBOOK=_ansible_playbook())
    runs = []

    def plan(*args, state="bound", **extra_env):
        workdir = tmp_path / ("run-%02d" % (len(runs) + 1))
        workdir.mkdir()
        extra = workdir / "vars.json"
        extra.write_text(json.dumps({"recap_points": points, "recap_bound": [points[0]["name"]], "recap_state": state}))
        run_env = dict(env, MK_TEST_RESULTS=str(workdir / "results.jsonl"), **extra_env)
        process = subprocess.run([str(PLAN), "--report-dir", str(workdir / "report"), str(playbook), "-i", str(localhost),
                                  "-i", registers.inventory, "--limit", "localhost,%s" % HOST, "-e", "@%s" % extra]
                                 + list(args), cwd=workdir, env=run_env, capture_output=True, text=True, timeout=240,
                                 check=False)
        records = [json.loads(line) for line in (workdir / "results.jsonl").read_text(encoding="utf-8").split("\n") if line]
        stats = [r["stats"] for r in records if r["type"] == "stats"]
        report_path = workdir / "report" / "drift-report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        why = "rc=%s\n%s\n%s\nreport: %s" % (process.returncode, process.stdout[-3000:], process.stderr[-2000:],
                                             json.dumps(report.get("summary")))
        assert stats, "the harness's callback wrote no recap\n" + why
        verdict = _verdict(stats[0])
        assert report.get("status") == verdict, "the report's verdict disagrees with the play recap\n" + why
        assert report["recap_disagreements"] == [], why
        assert process.returncode == EXIT[verdict], why
        runs.append(verdict)
        return report

    # An audit of points that do not exist yet and a binding not made: drift, and nothing written.
    cabinet.reset_counters()
    report = plan("--check")
    assert report["summary"]["retail_points"] == 2 and report["summary"]["registers"] == 1
    assert cabinet.writes(DEMO[0]) == 0
    plan()  # the converge: changes made (drift, exit 2)
    plan("--check")  # the audit after it: no drift, exit 0
    plan()  # a no-op apply: no change, exit 0
    plan("--check", MODULKASSA_PASSWORD="wrong-password-5")  # every cabinet task fails: error, exit 1
    plan(state="unbound")  # leave the shared register as found: the binding released (drift, exit 2)
    assert runs == ["drift", "drift", "no_drift", "no_drift", "error", "drift"]
    assert os.path.exists(registers.inventory)
