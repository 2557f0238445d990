# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/modulkassa_plan.py: argument split and the callbacks it enables (the exit codes: integration tests)."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "modulkassa_plan.py")
SPEC = importlib.util.spec_from_file_location("modulkassa_plan", PATH)
plan = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(plan)


@pytest.mark.parametrize("argv, expected", [
    ([], ("modulkassa.pos.audit", None, [])),
    (["-i", "inv", "--check"], ("modulkassa.pos.audit", None, ["-i", "inv", "--check"])),
    (["site.yml", "-i", "inv"], ("site.yml", None, ["-i", "inv"])),
    (["--playbook=x.yml", "--report-dir", "out", "-e", "a=1"], ("x.yml", "out", ["-e", "a=1"])),
    (["--report-dir", "out", "--", "--playbook", "p"], ("modulkassa.pos.audit", "out", ["--playbook", "p"])),
])
def test_own_options_come_first_and_the_rest_goes_to_ansible_playbook(argv, expected):
    assert plan.parse_arguments(argv) == expected


def test_an_option_without_its_value_is_a_usage_error():
    with pytest.raises(plan.UsageError):
        plan.parse_arguments(["--report-dir"])


def test_callbacks_from_ansible_cfg_are_kept_when_the_environment_has_none(tmp_path):
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ncallbacks_enabled = ansible.posix.profile_tasks, junit\n")
    assert plan.configured_callbacks({"ANSIBLE_CONFIG": str(cfg)}) == ["ansible.posix.profile_tasks", "junit"]
    assert plan.configured_callbacks({"ANSIBLE_CONFIG": str(cfg), "ANSIBLE_CALLBACKS_ENABLED": "a,b"}) == ["a", "b"]


def _report(status, **recap):
    return {"status": status, "summary": {}, "hosts": {"localhost": dict(
        {"ok": 1, "changed": 0, "failures": 0, "unreachable": 0}, **recap)}}


@pytest.mark.parametrize("report, contradiction", [
    (_report("no_drift"), None),
    (_report("drift", changed=2), None),
    (_report("error", failures=1), None),
    (_report("no_drift", changed=3), "the play recap counts 3 changed task(s)"),
    (_report("drift", changed=1, failures=1), "the play recap counts 1 failed task(s) and 0 unreachable host(s)"),
    (_report("no_drift", unreachable=1), "the play recap counts 0 failed task(s) and 1 unreachable host(s)"),
    ({"status": "no_drift", "summary": {}}, "the report carries no play recap"),
])
def test_the_verdict_is_checked_against_the_play_recap(report, contradiction):
    assert plan.recap_contradiction(report) == contradiction


def test_a_no_drift_report_with_changes_in_the_recap_exits_1(tmp_path, capsys):
    """Defence in depth: a callback that lost every result (ansible-core < 2.19 turns its exception into a
    warning) writes "no_drift" beside a recap that counts changes; the wrapper must not exit 0."""
    fake = tmp_path / "ansible-playbook"
    fake.write_text("#!%s\nimport json, os\nreport = %r\npath = os.environ['MODULKASSA_DRIFT_REPORT_JSON']\n"
                    "os.makedirs(os.path.dirname(path))\nwith open(path, 'w') as f:\n"
                    "    json.dump(report, f)\n" % (sys.executable, _report("no_drift", changed=1)))
    fake.chmod(0o755)
    rc = plan.main(["--report-dir", str(tmp_path / "out"), "site.yml"],
                   environ={"MODULKASSA_ANSIBLE_PLAYBOOK": str(fake), "PATH": os.environ.get("PATH", "")})
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert rc == plan.EXIT_ERROR
    assert "the drift report says no drift, but the play recap counts 1 changed task(s)" in out
