# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cabinet-only binding audit plans each register with register's planner, given the cabinet's bindings."""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import plan_bindings
from ansible_collections.modulkassa.pos.plugins.module_utils._bindings_audit import (
    CabinetView,
    RegisterData,
    audit_register,
    cabinet_bindings,
    reference_problem,
    undeclared_holders,
)

ID_A = "11111111-1111-4111-8111-111111111111"
ID_B = "22222222-2222-4222-8222-222222222222"
ID_C = "33333333-3333-4333-8333-333333333333"
ID_D = "44444444-4444-4444-8444-444444444444"


def point(point_id, name, serial=None):
    if serial:
        return {"id": point_id, "name": name, "kktStatus": "REGISTERED", "posLinkToken": None,
                "kkmInfo": {"serialNumber": serial, "activatedAt": "2026-11-24T08:00:00Z"}}
    return {"id": point_id, "name": name, "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None, "posLinkToken": "12345678"}


CABINET = [point(ID_A, "A", "SN-1"), point(ID_B, "B", "SN-1"), point(ID_C, "C", "SN-9"), point(ID_D, "D")]


def audit(references, serial="SN-1", exclusive=True, check_mode=True, points=None):
    view = CabinetView(CABINET if points is None else points)
    return audit_register(view, RegisterData("reg", serial, references), exclusive, check_mode)


def test_the_cabinet_view_is_the_agent_view_the_planner_gets():
    held = cabinet_bindings(CABINET)
    assert held == {"SN-1": [{"retailPointId": ID_A, "name": "A", "since": "2026-11-24T08:00:00Z"},
                             {"retailPointId": ID_B, "name": "B", "since": "2026-11-24T08:00:00Z"}],
                    "SN-9": [{"retailPointId": ID_C, "name": "C", "since": "2026-11-24T08:00:00Z"}]}
    entry = audit(["A", "D", ID_C])
    view = CabinetView(CABINET)
    expected = plan_bindings("SN-1", held["SN-1"], view.resolve(["A", "D", ID_C]), "bound", True)
    # register's planner, not a copy of its rules; predicted, as register reports a check-mode action
    assert entry["actions"] == [dict(a.as_dict(), outcome="predicted") for a in expected]
    assert [(a["action"], a["retail_point"], a["previous_register"]) for a in entry["actions"]] == [
        ("bind", "D", None), ("rebind", "C", "SN-9"), ("unbind", "B", "SN-1")]
    assert entry["changes"] == {"retail_points": {"before": ["A", "B"], "after": ["A", "C", "D"]}}
    assert entry["changed"] is True and entry["serial"] == "SN-1" and entry["declared"] is True


def test_no_drift_is_no_change_and_no_secret_in_the_entry():
    entry = audit(["A", ID_B.upper()])
    assert (entry["changed"], entry["changes"], entry["actions"], entry["warnings"]) == (False, {}, [], [])
    assert "12345678" not in repr(audit(["D"]))


def test_outside_check_mode_nothing_is_bound_from_the_cabinet_so_each_action_is_not_attempted():
    assert [(a["action"], a["outcome"]) for a in audit(["A", "D"], check_mode=False)["actions"]] == [
        ("bind", "not_attempted"), ("unbind", "not_attempted")]


def test_exclusive_false_keeps_what_is_not_declared():
    assert [a["action"] for a in audit(["A"], exclusive=False)["actions"]] == []
    assert [a["action"] for a in audit(["A"])["actions"]] == ["unbind"]


def test_missing_points_warn_in_check_mode_and_fail_otherwise():
    entry = audit(["A", "B", "Not yet"])
    assert [(a["action"], a["id"]) for a in entry["actions"]] == [("bind", None)]
    assert "would create it" in entry["warnings"][0]
    failed = audit(["Not yet"], check_mode=False)
    assert failed["failed"] and "does not exist in the cabinet" in failed["msg"]


def test_a_register_holding_nothing_warns_when_points_are_declared_for_it():
    assert "mistyped modulkassa_register_serial" in audit(["D"], serial="SN-TYPO")["warnings"][-1]
    assert audit([], serial="SN-TYPO")["warnings"] == []


def test_an_ambiguous_name_fails_that_register_only():
    entry = audit(["Twin"], points=CABINET + [point("55555555-5555-4555-8555-555555555555", "Twin"),
                                              point("66666666-6666-4666-8666-666666666666", "Twin")])
    assert entry["failed"] and "ambiguous" in entry["msg"] and "actions" not in entry


def test_reference_problems_are_the_register_modules_rules():
    assert reference_problem(["A", "B"]) is None and reference_problem([]) is None
    assert reference_problem("A") == "modulkassa_register_points must be a list of point names or ids"
    assert reference_problem(["A", " "]) == "modulkassa_register_points[1] must name a retail point"
    assert reference_problem(["A", " A"]) == "modulkassa_register_points lists the same point twice"


def test_undeclared_holders_of_managed_unclaimed_points():
    view = CabinetView(CABINET + [
        point("77777777-7777-4777-8777-777777777777", "E", "SN-7"),
        point("88888888-8888-4888-8888-888888888888", "Unmanaged", "SN-7")])
    managed = view.point_ids(["A", "B", "C", "E"])
    # SN-9 holds C, which a register of the data claims: its row is that register's rebind, not one of its own.
    entries = undeclared_holders(view, {"SN-1"}, managed, claimed_ids=view.point_ids(["A", "B", "C"]))
    assert [(e["serial"], e["declared"], e["changes"], [a["action"] for a in e["actions"]]) for e in entries] == [
        ("SN-7", False, {"retail_points": {"before": ["E"], "after": []}}, ["unbind"])]
    assert entries[0]["host"] is None
    # Nothing is reported when every held point is declared for a register of the data, or not managed.
    assert undeclared_holders(view, {"SN-1"}, managed, view.point_ids(["A", "B", "C", "E"])) == []
    assert undeclared_holders(view, {"SN-1", "SN-7", "SN-9"}, managed, set()) == []
