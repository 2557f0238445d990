# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tax data of 2026 against the real emulator and real ansible-playbook runs: points converged by VAT rate
name, equal to the same rate given as the cabinet's number (no write, in check mode and apply), ENVD refused for a
new point before any write, and a point the cabinet still holds in ENVD reported (result, warning, drift report)
without failing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
DEMO = ("demo@example.com", "demo-password-1")


def _env(cabinet):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]}


def _playbook(points):
    return yaml.safe_dump([{"name": "tax", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "points", "modulkassa.pos.retail_points": {"points": points}}]}], allow_unicode=True, sort_keys=False)


def _cabinet_points(cabinet, names):
    with cabinet.api(*DEMO) as api:
        listed = api.get("/api/v1/retail-points").json()
    return dict((p["name"], p) for p in listed if p["name"] in names)


def _why(run):
    return run.output_tail()


@pytest.mark.slow
def test_points_converge_by_rate_name_and_equal_the_cabinet_number(cabinet, run_playbook):
    tag = uuid.uuid4().hex[:8]
    points = [
        {"name": "Tax-%s ОСН" % tag, "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat": "VAT_22"},
        {"name": "Tax-%s УСН 5" % tag, "inn": "7707083893", "kpp": "773601001", "tax_mode": "SIMPLIFIED",
         "vat": "VAT_5"},
        {"name": "Tax-%s УСН 7/107" % tag, "inn": "7707083893", "kpp": "773601001",
         "tax_mode": "SIMPLIFIED_WITH_EXPENSE", "vat": "VAT_7_107"},
        {"name": "Tax-%s ПСН" % tag, "inn": "500100732259", "tax_mode": "PATENT", "vat": "NO_VAT"},
    ]
    names = [p["name"] for p in points]
    env = _env(cabinet)

    run = run_playbook(_playbook(points), env=env)
    assert run.rc == 0, _why(run)
    assert run.result("points")["summary"]["create"] == 4
    held = _cabinet_points(cabinet, names)
    assert [held[n]["settings"]["defaultVatTag"] for n in names] == [1113, 1109, 1112, 1105]

    # The same rates again, by name and then by the cabinet's number: nothing to do, in check mode and in apply.
    by_number = [dict((k, v) for k, v in p.items() if k != "vat") for p in points]
    for point, number in zip(by_number, (1113, 1109, 1112, 1105)):
        point["vat_tag"] = number
    for declared in (points, by_number):
        for check in (True, False):
            cabinet.reset_counters()
            run = run_playbook(_playbook(declared), env=env, check=check, diff=True)
            out = run.result("points")
            assert run.rc == 0 and out["changed"] is False, _why(run)
            assert out["summary"]["unchanged"] == 4 and cabinet.writes(DEMO[0]) == 0

    # A point still at the 2025 standard rate, declared at 22 % by name: one update, shown as the cabinet's numbers.
    with cabinet.api(*DEMO) as api:
        assert api.put("/api/v1/retail-point/%s" % held[names[0]]["id"],
                       json={"settings": {"defaultVatTag": 1102}}).status_code == 200
    cabinet.reset_counters()
    run = run_playbook(_playbook(points), env=env, check=True, diff=True)
    out = run.result("points")
    assert run.rc == 0 and out["changed"] is True and cabinet.writes(DEMO[0]) == 0, _why(run)
    changed = [r for r in out["results"] if r["action"] == "update"]
    assert [(r["name"], r["changes"]) for r in changed] == [(names[0], {"vat_tag": {"before": 1102, "after": 1113}})]
    run = run_playbook(_playbook(points), env=env)
    assert run.rc == 0 and run.result("points")["summary"]["update"] == 1, _why(run)
    assert _cabinet_points(cabinet, names)[names[0]]["settings"]["defaultVatTag"] == 1113


def test_a_new_envd_point_is_refused_before_any_write(cabinet, run_playbook):
    tag = uuid.uuid4().hex[:8]
    points = [{"name": "Tax-%s fine" % tag, "tax_mode": "COMMON", "vat": "VAT_22"},
              {"name": "Tax-%s ЕНВД" % tag, "tax_mode": "ENVD", "vat": "NO_VAT"}]
    cabinet.reset_counters()
    run = run_playbook(_playbook(points), env=_env(cabinet))
    out = run.result("points")
    assert run.rc != 0 and out.get("failed") is True
    assert out["field"] == "points[1].tax_mode"
    assert "abolished on 1 January 2021" in out["msg"] and "a new point cannot use it" in out["msg"]
    assert cabinet.writes(DEMO[0]) == 0
    assert _cabinet_points(cabinet, [p["name"] for p in points]) == {}


def test_vat_and_vat_tag_together_are_refused(cabinet, run_playbook):
    cabinet.reset_counters()
    run = run_playbook(_playbook([{"name": "Tax both", "vat": "VAT_22", "vat_tag": 1113}]), env=_env(cabinet))
    out = run.result("points")
    assert run.rc != 0 and out["field"] == "points[0].vat" and "give one of them" in out["msg"]
    assert cabinet.counters(DEMO[0]) == {}  # refused before the first request


def test_an_existing_envd_point_is_reported_not_failed(cabinet, ansible_env, tmp_path):
    """Through the drift report wrapper, as an audit runs it: exit 0 (no drift), the notice in the JSON and Markdown."""
    name = "Tax-%s старый ЕНВД" % uuid.uuid4().hex[:8]
    with cabinet.api(*DEMO) as api:  # made before 2021 (the cabinet still holds such points)
        created = api.post("/api/v1/retail-points", json={
            "id": str(uuid.uuid4()), "name": name, "settings": {"defaultTaxMode": "ENVD", "defaultVatTag": 1105}})
        assert created.status_code == 200, created.text
    playbook = tmp_path / "audit.yml"
    playbook.write_text(_playbook([{"name": name, "vat": "NO_VAT"}]), encoding="utf-8")
    inventory = tmp_path / "localhost.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8")
    env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               MK_TEST_RESULTS=str(tmp_path / "results.jsonl"), **_env(cabinet))
    cabinet.reset_counters()
    process = subprocess.run([str(PLAN), "--report-dir", str(tmp_path / "report"), str(playbook), "-i", str(inventory),
                              "--check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    why = process.stdout[-3000:] + process.stderr[-2000:]
    assert process.returncode == 0, why
    assert cabinet.writes(DEMO[0]) == 0
    assert "ENVD" in process.stdout + process.stderr and "[WARNING]" in process.stdout + process.stderr, why

    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    out = [r for r in results if r.get("task") == "points"][0]["result"]
    assert out["changed"] is False and out["results"][0]["action"] == "unchanged"
    assert "ENVD" in out["results"][0]["notices"][0]

    report = json.loads((tmp_path / "report" / "drift-report.json").read_text(encoding="utf-8"))
    assert report["status"] == "no_drift" and report["summary"]["notices"] == 1
    assert [(n["name"], "abolished on 1 January 2021" in n["notice"]) for n in report["notices"]] == [(name, True)]
    markdown = (tmp_path / "report" / "drift-report.md").read_text(encoding="utf-8")
    assert "### Notices (1)" in markdown and name in markdown
