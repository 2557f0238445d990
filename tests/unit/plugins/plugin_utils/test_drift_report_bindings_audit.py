# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report turns the one result of bindings_audit into the register rows register's results give."""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_collector import DriftCollector
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_markdown import render_markdown
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_masker import SecretMasker

REBIND = {"action": "rebind", "id": "id-3", "retail_point": "Shop 3", "previous_register": "SN-REG01"}
UNBIND = {"action": "unbind", "id": "id-9", "retail_point": "Shop 9", "previous_register": "SN-X"}
CHANGES = {"retail_points": {"before": ["Shop 2"], "after": ["Shop 2", "Shop 3"]}}
AUDIT_RESULT = {
    "changed": True, "ssh_hosts": [],
    "registers": [
        {"host": "reg01", "serial": "SN-REG01", "declared": True, "changed": False, "changes": {}, "actions": []},
        {"host": "reg02", "serial": "SN-REG02", "declared": True, "changed": True, "changes": CHANGES, "actions": [REBIND]},
        {"host": None, "serial": "SN-X", "declared": False, "changed": True, "actions": [UNBIND],
         "changes": {"retail_points": {"before": ["Shop 9"], "after": []}}},
    ],
}


def _report(*results):
    collector = DriftCollector(SecretMasker())
    collector.play_check_modes = [True, True, True]  # audit.yml: the run's mode, known at its start
    for host, action, status, result in results:
        collector.add(host, "audit", action, status, result, check_mode=True)
    return collector.report()


def test_one_audit_result_gives_the_rows_of_the_ssh_audit():
    from_cabinet = _report(("reg01", "modulkassa.pos.bindings_audit", "changed", AUDIT_RESULT))
    unchanged = {"serial": "SN-REG01", "changes": {}, "actions": []}
    drifted = {"serial": "SN-REG02", "changes": CHANGES, "actions": [REBIND]}
    over_ssh = _report(("reg01", "modulkassa.pos.register", "ok", unchanged),
                       ("reg02", "modulkassa.pos.register", "changed", drifted))
    assert (from_cabinet["status"], from_cabinet["exit_code"], from_cabinet["mode"]) == ("drift", 2, "check")
    declared = [r for r in from_cabinet["registers"] if r.get("declared") is not False]
    assert [(r["host"], r["serial"], r["changes"], r["actions"]) for r in declared] == \
        [(r["host"], r["serial"], r["changes"], r["actions"]) for r in over_ssh["registers"]]
    # A register the inventory does not have: keyed by its serial, marked, and said so in the Markdown.
    undeclared = [r for r in from_cabinet["registers"] if r.get("declared") is False][0]
    assert (undeclared["host"], undeclared["declared"], undeclared["actions"]) == ("SN-X", False, [UNBIND])
    markdown = render_markdown(from_cabinet)
    assert "| SN-X (not in the inventory) | `SN-X` | retail points | `Shop 9` | (none) | unbind Shop 9 |" in markdown
    assert "| reg02 | `SN-REG02` |" in markdown
    assert from_cabinet["summary"]["changes"] == 2 and from_cabinet["summary"]["registers"] == 2


def test_no_drift_from_the_cabinet_is_exit_0_and_a_skipped_audit_says_nothing():
    clean = dict(AUDIT_RESULT, changed=False, registers=[AUDIT_RESULT["registers"][0]])
    assert _report(("reg01", "modulkassa.pos.bindings_audit", "ok", clean))["status"] == "no_drift"
    skipped = {"skipped": True, "ssh_hosts": ["reg01"], "registers": []}
    report = _report(("reg01", "modulkassa.pos.bindings_audit", "skipped", skipped))
    assert (report["status"], report["registers"]) == ("no_drift", [])


def test_serial_batches_audit_an_undeclared_register_once_each_but_it_is_one_row():
    report = _report(("reg01", "modulkassa.pos.bindings_audit", "changed", AUDIT_RESULT),
                     ("reg05", "modulkassa.pos.bindings_audit", "changed",
                      dict(AUDIT_RESULT, registers=AUDIT_RESULT["registers"][2:])))
    rows = [r for r in report["registers"] if r["host"] == "SN-X"]
    assert len(rows) == 1 and rows[0]["actions"] == [UNBIND] and rows[0]["tasks"] == ["audit"]


def test_a_refused_apply_is_an_error_without_rows():
    entry = {"host": "reg02", "serial": "SN-REG02", "declared": True, "changed": False, "failed": True,
             "changes": {}, "actions": [], "needed_actions": [REBIND], "msg": "binding needs SSH"}
    refused = {"failed": True, "registers": [entry],
               "msg": "1 register(s) audited from the cabinet differ from the data (reg02), and binding needs SSH"}
    collector = DriftCollector(SecretMasker())
    collector.add("reg01", "audit", "modulkassa.pos.bindings_audit", "failed", refused, check_mode=False)
    report = collector.report()
    assert (report["status"], report["exit_code"], report["mode"], report["registers"]) == ("error", 1, "apply", [])
    assert "binding needs SSH" in report["failures"][0]["msg"]
