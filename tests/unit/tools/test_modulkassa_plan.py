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
    ([], ("modulkassa.pos.audit", None, [], None)),
    (["-i", "inv", "--check"], ("modulkassa.pos.audit", None, ["-i", "inv", "--check"], None)),
    (["site.yml", "-i", "inv"], ("site.yml", None, ["-i", "inv"], None)),
    (["--playbook=x.yml", "--report-dir", "out", "-e", "a=1"], ("x.yml", "out", ["-e", "a=1"], None)),
    (["--report-dir", "out", "--", "--playbook", "p"], ("modulkassa.pos.audit", "out", ["--playbook", "p"], None)),
    # --fail-on-health takes its severity only after "=": the next word stays the playbook
    (["--fail-on-health", "site.yml", "-i", "inv"], ("site.yml", None, ["-i", "inv"], "warning")),
    (["--fail-on-health=critical", "--report-dir", "out"], ("modulkassa.pos.audit", "out", [], "critical")),
    (["--", "--fail-on-health"], ("modulkassa.pos.audit", None, ["--fail-on-health"], None)),
])
def test_own_options_come_first_and_the_rest_goes_to_ansible_playbook(argv, expected):
    assert plan.parse_arguments(argv) == expected


@pytest.mark.parametrize("argv", [["--report-dir"], ["--fail-on-health=info"], ["--fail-on-health="],
                                  ["--fail-on-health=CRITICAL"]])
def test_an_option_without_its_value_or_with_a_wrong_one_is_a_usage_error(argv):
    with pytest.raises(plan.UsageError):
        plan.parse_arguments(argv)


@pytest.mark.parametrize("status, exit_code, expected", [
    ("no_drift", 0, 0), ("drift", 2, 2), ("error", 1, 1),
    ("no_drift", 3, 3), ("drift", 3, 3),  # the callback was asked to fail on health, and did
    ("error", 3, 1),  # an error is always 1
    ("drift", True, 2),
])
def test_the_exit_code_is_the_reports(status, exit_code, expected):
    assert plan.exit_code_of({"status": status, "exit_code": exit_code}) == expected


def test_the_health_line_says_whether_it_fails_the_run():
    def report(**health):
        return {"status": "no_drift", "health": dict({"severity": "critical", "summary": {
            "points_in_trouble": 2, "registers_in_trouble": 1}}, **health)}

    assert plan.describe_health({"status": "no_drift", "health": {"summary": {"points_in_trouble": 0}}}) is None
    assert plan.describe_health({"status": "no_drift"}) is None  # a report of an older collection
    assert plan.describe_health(report()) == ("health: 2 point(s) in trouble on 1 register(s), worst critical (not "
                                              "failing the run: see --fail-on-health)")
    assert plan.describe_health(report(fail_on="warning", failing=True)).endswith("(at least warning: fails the run)")
    assert plan.describe_health(report(severity="warning", fail_on="critical", failing=False)).endswith(
        "(below critical: does not fail the run)")


def test_usage_names_every_exit_code():
    for line in ("  0  no drift", "  2  drift", "  1  error", "  3  health (only with --fail-on-health)"):
        assert line in plan.USAGE


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
