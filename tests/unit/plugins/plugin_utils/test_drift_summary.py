# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The set_stats drift summary: verdicts per object, counts, and the run's status as the drift report says it."""

from __future__ import annotations

import json

from ansible_collections.modulkassa.pos.plugins.filter.drift import drift_summary as summary_filter
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_summary import drift_summary, unfinished


def _points(*entries, failed=False):
    result = {"changed": any(e[1] in ("create", "update", "delete") for e in entries),
              "results": [{"name": name, "id": "id-%s" % name, "action": action, "outcome": outcome,
                           "changes": {"phone": {"before": "1", "after": "2"}} if action == "update" else {}}
                          for name, action, outcome in entries]}
    if failed:
        result.update(failed=True, msg="1 of 2 writes failed")
    return result


def _register(changed=False, **extra):
    result = {"changed": changed, "serial": "SN-1", "changes": {}, "actions": []}
    if changed:
        result.update(changes={"retail_points": {"before": [], "after": ["A"]}},
                      actions=[{"action": "bind", "retail_point": "A"}])
    result.update(extra)
    return result


def test_no_drift_lists_nothing_and_counts_everything():
    published = drift_summary(_points(("A", "unchanged", "unchanged")), {"reg01": _register()}, check_mode=True)
    assert (published["finished"], published["mode"], published["status"], published["exit_code"]) == (
        True, "check", "no_drift", 0)
    assert published["retail_points"] == [] and published["registers"] == []
    assert published["summary"]["retail_points"]["unchanged"] == 1 and published["summary"]["registers"]["unchanged"] == 1


def test_drift_lists_each_object_that_would_change():
    published = drift_summary(_points(("A", "update", "predicted"), ("B", "unchanged", "unchanged")),
                              {"reg01": _register(changed=True), "reg02": _register()}, check_mode=True)
    assert (published["status"], published["exit_code"], published["summary"]["changes"]) == ("drift", 2, 2)
    assert published["retail_points"] == [{"name": "A", "id": "id-A", "verdict": "update"}]
    assert published["registers"] == [{"host": "reg01", "serial": "SN-1", "verdict": "changed"}]


def test_a_run_that_failed_part_way_is_an_error_naming_what_failed():
    published = drift_summary(
        _points(("A", "create", "done"), ("B", "create", "failed"), failed=True),
        {"reg01": _register(changed=True), "reg02": None, "reg03": {"unreachable": True, "msg": "ssh: refused"}},
        failed_registers=["reg02", "reg03"])
    assert (published["mode"], published["status"], published["exit_code"]) == ("apply", "error", 1)
    assert [(p["name"], p["verdict"]) for p in published["retail_points"]] == [("A", "create"), ("B", "failed")]
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [
        ("reg01", "changed"), ("reg02", "failed"), ("reg03", "unreachable")]
    assert published["summary"]["retail_points"] == {"create": 1, "update": 0, "delete": 0, "unchanged": 0,
                                                     "absent": 0, "keep": 0, "failed": 1}


def test_unfinished_is_an_error_that_claims_nothing():
    published = unfinished(check_mode=True)
    assert (published["finished"], published["status"], published["exit_code"], published["mode"]) == (
        False, "error", 1, "check")
    assert summary_filter(None, finished=False, check_mode=True) == published


def test_lists_are_capped_and_no_secret_or_value_is_published():
    entries = [("P%02d" % i, "create", "done") for i in range(10)]
    published = drift_summary(_points(*entries), {"reg01": _register(changed=True, code="123456789")}, max_objects=4)
    assert len(published["retail_points"]) == 4 and published["registers"] == [] and published["omitted"] == 7
    text = json.dumps(published)
    assert "123456789" not in text and "before" not in text


def test_the_filter_reads_the_registers_results_from_hostvars():
    hostvars = {"reg01": {"registers_result": _register(changed=True)}, "reg02": {}}
    published = summary_filter(_points(("A", "unchanged", "unchanged")), registers={"hosts": ["reg01", "reg02"],
                               "failed": ["reg02"]}, hostvars=hostvars)
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [("reg01", "changed"), ("reg02", "failed")]


def test_the_filter_takes_the_cabinet_audits_entries_for_the_registers_it_audited():
    """Registers audited from the cabinet run no register task: bindings_audit's entries are their results."""
    hostvars = {"reg01": {"registers_result": _register()}, "SN-2": {}, "SN-3": {}}
    audit = {"changed": True, "ssh_hosts": ["reg01"], "registers": [
        dict(_register(changed=True, serial="SN-2"), host="SN-2", declared=True),
        dict(_register(serial="SN-3"), host="SN-3", declared=True),
        dict(_register(changed=True, serial="SN-9"), host=None, declared=False),  # held by a register not in the data
    ]}
    published = summary_filter(None, registers={"hosts": ["reg01", "SN-2", "SN-3"], "failed": [],
                                                "cabinet_audit": audit}, hostvars=hostvars, check_mode=True)
    # A register the data does not declare has no host: host null, its serial (as in docs/awx.md).
    assert [(r["host"], r["serial"], r["verdict"]) for r in published["registers"]] == [
        ("SN-2", "SN-2", "changed"), (None, "SN-9", "changed")]
    assert published["summary"]["registers"]["unchanged"] == 2
    assert (published["status"], published["exit_code"]) == ("drift", 2)
    # Without the audit's entries the same registers would count as never run, and the drift would go unseen.
    without = summary_filter(None, registers={"hosts": ["reg01", "SN-2", "SN-3"], "failed": []}, hostvars=hostvars,
                             check_mode=True)
    assert (without["status"], without["summary"]["registers"]["not_run"]) == ("no_drift", 2)
