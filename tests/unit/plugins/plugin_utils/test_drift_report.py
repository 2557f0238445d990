# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report's collector, masking and Markdown, driven with result dicts shaped like the plugins' own."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_collector import DriftCollector
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_markdown import render_markdown
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_masker import MASK, SecretMasker

POINTS_RESULT = {
    "changed": True,
    "results": [
        {"name": "Shop | 1", "id": "id-1", "action": "update", "changed_fields": ["phone"], "outcome": "predicted",
         "changes": {"phone": {"before": "9123456789", "after": "9123456700"}}},
        {"name": "Shop 2", "id": "id-2", "action": "unchanged", "changed_fields": [], "outcome": "unchanged",
         "changes": {}},
    ],
}
REGISTER_RESULT = {
    "changed": True, "serial": "SN-REG02",
    "actions": [{"action": "rebind", "id": "id-3", "retail_point": "Shop 3", "previous_register": "SN-REG01"}],
    "changes": {"retail_points": {"before": ["Shop 2"], "after": ["Shop 2", "Shop 3"]}},
}


def _collector(**kwargs):
    collector = DriftCollector(SecretMasker(**kwargs))
    collector.playbook = "audit.yml"
    return collector


def test_points_and_registers_give_one_row_per_changed_field_and_drift():
    collector = _collector()
    collector.play_check_modes = [True, True, True]  # audit.yml: validate, points, registers
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "changed", POINTS_RESULT, check_mode=True)
    collector.add("reg02", "bind", "modulkassa.pos.register", "changed", REGISTER_RESULT, check_mode=True)
    unchanged = {"changed": False, "serial": "SN-REG01", "actions": [], "changes": {}}
    collector.add("reg01", "bind", "modulkassa.pos.register", "ok", unchanged, check_mode=True)
    report = collector.report()
    assert (report["status"], report["exit_code"], report["mode"]) == ("drift", 2, "check")
    assert report["summary"]["changes"] == 2
    assert [(p["name"], p["changes"]) for p in report["retail_points"]] == [
        ("Shop | 1", {"phone": {"before": "9123456789", "after": "9123456700"}})]
    assert [(r["host"], r["serial"], r["changes"]) for r in report["registers"]] == [
        ("reg02", "SN-REG02", REGISTER_RESULT["changes"])]
    markdown = render_markdown(report)
    assert "| Shop \\| 1 | update | phone | `9123456789` | `9123456700` |" in markdown
    assert "rebind Shop 3 (from SN-REG01)" in markdown
    assert "| now | declared |" in markdown


def test_no_change_is_no_drift_and_apply_mode_says_before_after():
    collector = _collector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok",
                  {"changed": False, "results": [POINTS_RESULT["results"][1]]}, check_mode=False)
    report = collector.report()
    assert (report["status"], report["exit_code"], report["mode"]) == ("no_drift", 0, "apply")
    assert "no changes" in render_markdown(report)


def test_failures_and_unreachable_are_errors_but_ignored_failures_are_not():
    collector = _collector()
    collector.add("localhost", "x", "modulkassa.pos.retail_points", "failed", {"msg": "boom"}, ignored=True)
    assert collector.report()["status"] == "no_drift"
    collector.add("reg04", "bind", "modulkassa.pos.register", "unreachable", {"msg": "ssh: connect refused"})
    report = collector.report()
    assert (report["status"], report["exit_code"]) == ("error", 1)
    assert report["unreachable"] == [{"host": "reg04", "task": "bind", "msg": "ssh: connect refused"}]
    assert "(ignored) boom" in render_markdown(report)


def test_secrets_are_masked_by_key_and_scrubbed_by_value_everywhere():
    collector = _collector(values=["cabinet-pass-1"], extra_keys=["pin"])
    collector.add("h", "leaky", "community.general.thing", "changed", {
        "changed": True,
        "credentials": {"login": "dev-77", "password": "device-secret-9"},
        "code": "12345678", "pin": "4321",
        "msg": "the code 12345678 and device-secret-9 and cabinet-pass-1",
        "diff": {"before": "posLinkToken: 12345678\nname: a\n", "after": "posLinkToken: null\nname: b\n"},
    })
    collector.add("h", "failing", "x.y.z", "failed", {"msg": "login failed: password=hunter22 token: abcd1234"})
    text = json.dumps(collector.report()) + render_markdown(collector.report())
    for secret in ("12345678", "device-secret-9", "cabinet-pass-1", "dev-77", "hunter22", "abcd1234", "4321"):
        assert secret not in text, secret
    assert MASK in text
    assert "posLinkToken: null" in text  # "no code" is not a secret and stays readable


def test_booleans_under_secret_looking_keys_stay_readable():
    masker = SecretMasker()
    assert masker.data({"code_issued": True, "code_pending": False, "password": None}) == {
        "code_issued": True, "code_pending": False, "password": None}


def test_loop_items_are_recorded_one_by_one():
    collector = _collector()
    item = {"ansible_loop_var": "item", "item": {"name": "Kiosk"}, "_ansible_item_label": "Kiosk", "changed": True,
            "action": "unchanged", "name": "Kiosk", "id": "id-9", "changed_fields": [], "code_issued": True,
            "changes": {"activation": {"before": "inactive", "after": "pending"}}}
    collector.add("localhost", "activate", "modulkassa.pos.retail_point", "changed",
                  {"changed": True, "results": [item]}, check_mode=True)
    report = collector.report()
    assert [(p["name"], p["changes"]) for p in report["retail_points"]] == [
        ("Kiosk", {"activation": {"before": "inactive", "after": "pending"}})]
    assert report["retail_points"][0]["tasks"] == ["localhost: activate (Kiosk)"]


def test_other_changed_tasks_carry_their_diff_text():
    collector = _collector()
    collector.add("h", "template", "ansible.builtin.template", "changed",
                  {"changed": True, "diff": [{"before": "a\n", "after": "b\n", "before_header": "f", "after_header": "f"}]})
    report = collector.report()
    assert report["summary"]["other_changes"] == 1 and "-a\n+b" in report["other_changes"][0]["diff"]
    assert "```diff" in render_markdown(report)


def test_markdown_escapes_html_and_caps_rows():
    collector = _collector()
    results = [{"name": "<img src=x> %d" % i, "id": "id-%d" % i, "action": "create", "outcome": "predicted",
                "changes": {"state": {"before": "absent", "after": "present"}}} for i in range(5)]
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "changed", {"changed": True, "results": results})
    markdown = render_markdown(collector.report(), max_rows=3)
    assert not re.search(r"(?<!\\)<img", markdown) and "\\<img src=x\\> 0" in markdown
    assert "... and 2 more row(s)" in markdown


@pytest.mark.parametrize("cli_check,plays,mode", [
    (False, [True, True, True], "check"),      # audit.yml: every play declares check_mode: true
    (False, [True, False, False], "apply"),    # site.yml: validation is check-only, the converge is not
    (True, [True, True, True], "check"),       # site.yml --check (Ansible gives undeclared plays --check)
    (True, [True, False], "apply"),            # a play declaring check_mode: false writes even under --check
    (False, [True, "{{ audit }}"], "apply"),   # a template is not known at the start: never claim "nothing changed"
    (False, [], "apply"),
])
def test_the_mode_is_the_runs_whatever_tasks_ran(cli_check, plays, mode):
    collector = _collector()
    collector.cli_check_mode, collector.play_check_modes = cli_check, plays
    # The tasks that ran say nothing about the mode: here one writing task of each kind, then a failure.
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", {"changed": False, "results": []},
                  check_mode=not cli_check)
    collector.add("localhost", "validate", "modulkassa.pos.fleet_validate", "failed", {"failed": True, "msg": "bad"},
                  check_mode=cli_check)
    report = collector.report()
    assert report["mode"] == mode
    assert render_markdown(report).splitlines()[2].startswith(
        "check mode (nothing was changed)" if mode == "check" else "apply mode (changes were made)")


def test_a_run_stopped_by_validation_before_any_writing_task_keeps_the_runs_mode():
    collector = _collector()
    collector.play_check_modes = [True, True, True]
    collector.add("localhost", "validate", "modulkassa.pos.fleet_validate", "failed",
                  {"failed": True, "msg": "The fleet data has 1 problem"}, check_mode=True)
    report = collector.report()
    assert (report["mode"], report["status"], report["exit_code"]) == ("check", "error", 1)
    assert "check mode (nothing was changed)" in render_markdown(report)


def test_notices_are_listed_once_and_are_not_drift():
    notice = "its tax mode in the cabinet is ENVD. ЕНВД (ENVD) was abolished on 1 January 2021"
    points = {"changed": False, "results": [
        {"name": "Old <shop>", "id": "id-9", "action": "unchanged", "changes": {}, "outcome": "unchanged",
         "notices": [notice]}]}
    single = {"changed": False, "name": "Old <shop>", "id": "id-9", "action": "unchanged", "changes": {},
              "notices": [notice]}
    collector = _collector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", points, check_mode=True)
    collector.add("localhost", "manual", "modulkassa.pos.retail_point", "ok", single, check_mode=True)
    report = collector.report()
    assert (report["status"], report["exit_code"]) == ("no_drift", 0)
    assert report["notices"] == [{"name": "Old <shop>", "id": "id-9", "notice": notice}]
    assert report["summary"]["notices"] == 1 and report["retail_points"] == []
    markdown = render_markdown(report)
    assert "### Notices (1)" in markdown and "| Old \\<shop\\> | its tax mode" in markdown


def test_a_failed_bind_shows_the_failed_action_and_the_real_bindings_also_when_unreachable():
    failed_bind = {
        "changed": False, "serial": "SN-REG05", "unreachable": True,
        "msg": "bind of retail point 'Shop 4' on register SN-REG05 failed: connection lost",
        "actions": [{"action": "bind", "id": "id-5", "retail_point": "Shop 5", "previous_register": None, "outcome": "done"},
                    {"action": "bind", "id": "id-4", "retail_point": "Shop 4", "previous_register": None,
                     "outcome": "failed", "error": "connection lost"},
                    {"action": "unbind", "id": "id-6", "retail_point": "Shop 6", "previous_register": "SN-REG05",
                     "outcome": "not_attempted"}],
        "changes": {"retail_points": {"before": ["Shop 6"], "after": ["Shop 5", "Shop 6"]}},
    }
    collector = _collector()
    collector.add("reg05", "bind", "modulkassa.pos.register", "unreachable", failed_bind, check_mode=False)
    report = collector.report()
    assert report["status"] == "error" and [u["host"] for u in report["unreachable"]] == ["reg05"]
    entry = report["registers"][0]
    assert entry["changes"] == failed_bind["changes"] and "connection lost" in entry["error"]
    markdown = render_markdown(report)
    assert "bind Shop 5<br>bind Shop 4 (failed)<br>unbind Shop 6 (not attempted)" in markdown, markdown


def test_a_register_verified_then_bound_lists_each_action_once_with_what_was_done():
    # modulkassa-plan --apply: the saved plan's registers are verified in check mode, then bound by the apply play.
    def bind(outcome):
        return {"action": "bind", "id": "id-5", "retail_point": "Shop 5", "previous_register": None, "outcome": outcome}
    changes = {"retail_points": {"before": [], "after": ["Shop 5"]}}
    collector = _collector()
    collector.add("reg05", "verify", "modulkassa.pos.register", "changed",
                  {"changed": True, "serial": "SN-5", "actions": [bind("predicted")], "changes": changes}, check_mode=True)
    collector.add("reg05", "bind", "modulkassa.pos.register", "changed",
                  {"changed": True, "serial": "SN-5", "actions": [bind("done")], "changes": changes}, check_mode=False)
    (entry,) = collector.report()["registers"]
    assert entry["actions"] == [bind("done")] and entry["tasks"] == ["verify", "bind"]
    # A prediction seen after what was done does not replace it; the same prediction twice is one action.
    collector.add("reg05", "audit", "modulkassa.pos.register", "changed",
                  {"changed": True, "serial": "SN-5", "actions": [bind("predicted")], "changes": changes}, check_mode=True)
    assert collector.report()["registers"][0]["actions"] == [bind("done")]


def _recap(**hosts):
    """``set_stats`` input as the callback builds it from ansible-core's statistics (the PLAY RECAP)."""
    zero = dict.fromkeys(("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"), 0)
    return dict((host, dict(zero, **counts)) for host, counts in hosts.items())


def test_a_recap_with_changes_the_report_never_saw_is_an_error_not_no_drift():
    # What ansible-core 2.16-2.18 did to the 2.19-only callback: every result lost, the recap intact.
    collector = _collector()
    collector.set_stats(_recap(localhost={"ok": 1, "changed": 1}, reg01={"ok": 1}))
    report = collector.report()
    assert (report["status"], report["exit_code"]) == ("error", 1)
    assert report["recap_disagreements"] == [
        "localhost: the play recap counts changed=1, but the report was given no changed result"]
    markdown = render_markdown(report)
    assert "the report disagrees with the play recap" in markdown and "no drift" not in markdown


def test_recap_failures_and_unreachable_hosts_must_have_reached_the_report():
    collector = _collector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok",
                  {"changed": False, "results": [POINTS_RESULT["results"][1]]})
    collector.set_stats(_recap(localhost={"ok": 1}, reg01={"failures": 1}, reg02={"unreachable": 1}))
    report = collector.report()
    assert report["status"] == "error" and report["summary"]["recap_disagreements"] == 2
    assert [p.split(":")[0] for p in report["recap_disagreements"]] == ["reg01", "reg02"]


def test_a_changed_result_that_shows_no_change_disagrees_with_the_recap():
    collector = _collector()  # a register result claiming changed without saying what: nothing to report
    collector.add("reg01", "bind", "modulkassa.pos.register", "changed", {"changed": True, "changes": {}, "actions": []})
    collector.set_stats(_recap(reg01={"ok": 1, "changed": 1}))
    report = collector.report()
    assert report["status"] == "error"
    assert report["recap_disagreements"] == ["the play recap counts 1 changed task(s), but the report found no change to show"]


def test_a_report_that_saw_what_the_recap_counts_keeps_its_verdict():
    collector = _collector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "changed", POINTS_RESULT, check_mode=True)
    collector.add("reg01", "bind", "modulkassa.pos.register", "failed", {"changed": True, "msg": "x"}, ignored=True)
    collector.set_stats(_recap(localhost={"ok": 1, "changed": 1}, reg01={"ok": 1, "changed": 1, "ignored": 1}))
    report = collector.report()
    assert (report["status"], report["recap_disagreements"]) == ("drift", [])
    quiet = _collector()
    quiet.add("localhost", "points", "modulkassa.pos.retail_points", "ok", {"changed": False, "results": []})
    quiet.set_stats(_recap(localhost={"ok": 1}))
    assert quiet.report()["status"] == "no_drift"


KEPT_RESULT = {"changed": False, "summary": {"keep": 2}, "results": [
    {"name": "Declared", "id": "id-1", "action": "unchanged", "changes": {}, "outcome": "unchanged"},
    {"name": "Old till", "id": "id-7", "action": "keep", "changes": {}, "outcome": "unchanged", "guards": ["active"],
     "reason": "active on register SN-REG07 (kktStatus REGISTERED)"},
    {"name": "1C Склад", "id": "id-8", "action": "keep", "changes": {}, "outcome": "unchanged",
     "guards": ["purge_exclude"], "reason": "its name matches the purge_exclude entry '1C *'"},
]}


@pytest.mark.parametrize("check_mode", [True, False])
def test_points_kept_by_the_purge_guards_are_listed_with_their_reason_and_are_not_drift(check_mode):
    collector = _collector()
    collector.cli_check_mode = check_mode
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", KEPT_RESULT, check_mode=check_mode)
    collector.add("localhost", "again", "modulkassa.pos.retail_points", "ok", KEPT_RESULT, check_mode=check_mode)
    report = collector.report()
    assert (report["status"], report["exit_code"], report["summary"]["changes"]) == ("no_drift", 0, 0)
    assert report["retail_points"] == [] and report["summary"]["kept"] == 2
    assert report["kept"] == [
        {"name": "Old till", "id": "id-7", "guards": ["active"],
         "reason": "active on register SN-REG07 (kktStatus REGISTERED)"},
        {"name": "1C Склад", "id": "id-8", "guards": ["purge_exclude"],
         "reason": "its name matches the purge_exclude entry '1C *'"}]
    markdown = render_markdown(report)
    assert markdown.startswith("## ModulKassa drift report: %s" % ("no drift" if check_mode else "no changes"))
    assert "The purge kept 2 point(s) that the data does not declare" in markdown
    assert "### Kept by the purge guards (2)" in markdown
    assert "| Old till | `id-7` | kept: active on register SN-REG07 (kktStatus REGISTERED) |" in markdown
    assert "| 1C Склад | `id-8` | kept: its name matches the purge\\_exclude entry '1C \\*' |" in markdown


def test_a_refused_purge_is_an_error_showing_the_deletes_it_did_not_attempt():
    refused = {"failed": True, "changed": False, "msg": "purge would delete 12 points ...", "results": [
        {"name": "Stray", "id": "id-9", "action": "delete", "outcome": "not_attempted",
         "changes": {"state": {"before": "present", "after": "absent"}}}]}
    collector = _collector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "failed", refused, check_mode=True)
    report = collector.report()
    assert (report["status"], report["exit_code"]) == ("error", 1)
    assert report["failures"][0]["msg"] == "purge would delete 12 points ..."
    assert "| Stray | delete (not attempted) | state | `present` | `absent` |" in render_markdown(report)
