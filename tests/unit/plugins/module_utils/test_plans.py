# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PointPlan and BindingPlan are plain data: through JSON and back, every part of the verdict is the same, and no
secret (an activation code) is in the data. The one point index refuses an ambiguous name."""

from __future__ import annotations

import json

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import BindingPlan, resolve_references
from ansible_collections.modulkassa.pos.plugins.module_utils._fingerprint import point_fingerprint, register_fingerprint
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import AmbiguousName, PointIndex
from ansible_collections.modulkassa.pos.plugins.module_utils._point_plan import PointPlan
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import normalize_specs

from .test_point_planner import LOGIN, SPECS, FakeCabinet

CODE = "731904"
ID_A = "11111111-1111-4111-8111-111111111111"
ID_B = "22222222-2222-4222-8222-222222222222"
ID_C = "33333333-3333-4333-8333-333333333333"


def _round_trip(plan):
    return type(plan).from_dict(json.loads(json.dumps(plan.to_dict())))


def _point_verdict(plan):
    return {"changed": plan.changed, "summary": plan.summary(), "results": plan.results(),
            "diff": plan.diff_entries(), "warnings": plan.warnings(), "message": plan.message(),
            "failed": plan.failed, "result": plan.result(),
            "fingerprints": [c.fingerprint for c in plan.changes]}


def _cabinet():
    cabinet = FakeCabinet()
    PointPlan.make(normalize_specs(SPECS), [], LOGIN).apply(cabinet)
    ids = sorted(cabinet.points)
    cabinet.points[ids[0]].update(posLinkToken=CODE)  # a pending code: a secret the plan must not carry
    cabinet.points[ids[1]].update(kktStatus="REGISTERED", kkmInfo={"serialNumber": "SN-1"})
    cabinet.points[ID_C] = {"id": ID_C, "name": "Stray", "address": "x", "kktStatus": "KKT_NOT_PLUGGED"}
    return cabinet


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_point_plan_survives_json_with_its_whole_verdict_and_no_code(check_mode):
    cabinet = _cabinet()
    specs = [dict(SPECS[0], address="Moscow 2"), SPECS[1], {"name": "New shop", "address": "Tver 1"}]
    plan = PointPlan.make(normalize_specs(specs), cabinet.list_points(), LOGIN, purge=True)
    cabinet.fail_names.add("New shop")
    plan.apply(cabinet, check_mode=check_mode)
    assert {c.action for c in plan.changes} >= {"update", "unchanged", "create", "delete"}
    text = json.dumps(plan.to_dict())
    assert CODE not in text
    copy = _round_trip(plan)
    assert _point_verdict(copy) == _point_verdict(plan)
    assert copy.failed is (not check_mode)  # the create failed outside check mode


def test_a_refused_purge_survives_json():
    cabinet = _cabinet()
    plan = PointPlan.make(normalize_specs([]), cabinet.list_points(), LOGIN, purge=True)
    assert plan.refused and plan.failed
    assert _point_verdict(_round_trip(plan)) == _point_verdict(plan)


def test_a_fingerprint_follows_the_managed_state_not_the_code_or_health():
    point = {"id": ID_A, "name": "Shop", "address": "x", "kktStatus": "KKT_NOT_PLUGGED"}
    same = dict(point, posLinkToken=CODE, somethingElse=1)
    assert point_fingerprint(point) == point_fingerprint(same)
    assert point_fingerprint(point) != point_fingerprint(dict(point, address="y"))
    active = dict(point, kktStatus="REGISTERED", kkmInfo={"serialNumber": "SN-1"})
    assert point_fingerprint(point) != point_fingerprint(active)
    assert point_fingerprint(None) != point_fingerprint(point)
    assert register_fingerprint("SN-1", [{"retailPointId": ID_A, "since": "t1"}], {"A": "SN-1"}) == \
        register_fingerprint("SN-1", [{"retailPointId": ID_A, "since": "t2"}], {"A": "SN-1"})
    assert register_fingerprint("SN-1", [], {ID_A: "SN-1"}) != register_fingerprint("SN-1", [], {ID_A: "SN-2"})


def _binding_verdict(plan):
    return {"changed": plan.changed, "result": plan.result(), "changes": plan.changes(),
            "diff": plan.diff_entry(), "message": plan.message(), "planned": [s.as_dict() for s in plan.planned]}


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_binding_plan_survives_json_with_its_whole_verdict(check_mode):
    points = [{"id": ID_A, "name": "A", "kktStatus": "REGISTERED", "kkmInfo": {"serialNumber": "SN-2"},
               "posLinkToken": CODE},
              {"id": ID_B, "name": "B", "kktStatus": "KKT_NOT_PLUGGED"}]
    bindings = [{"retailPointId": ID_C, "name": "C", "since": "2026-01-01T00:00:00Z"}]
    resolved = resolve_references(["A", ID_B, "Not yet"], PointIndex(points))
    plan = BindingPlan.make("SN-1", bindings, resolved, "bound", True, check_mode=check_mode)
    assert [(s.action.action, s.action.name) for s in plan.steps] == [
        ("rebind", "A"), ("bind", "B"), ("bind", "Not yet"), ("unbind", "C")]
    if not check_mode:  # as an apply leaves it: one done, one failed, the rest not attempted
        plan.steps[0].outcome = "done"
        plan.steps[1].outcome, plan.steps[1].error = "failed", "agent said no"
        plan.bindings_after = [{"retailPointId": ID_A, "name": "A"}] + bindings
        plan.failure = {"message": "bind of retail point 'B' failed", "kind": "failed", "agent_error": "x",
                        "exception": None}
    text = json.dumps(plan.to_dict())
    assert CODE not in text
    assert _binding_verdict(_round_trip(plan)) == _binding_verdict(plan)


def test_the_one_index_finds_by_id_in_any_case_and_by_folded_name_and_refuses_a_shared_name():
    index = PointIndex([{"id": ID_A, "name": "Shop 1"}, {"id": ID_B, "name": "Kazan 5"},
                        {"id": ID_C, "name": "kazan  5"}, {"name": "no id"}, "junk"])
    assert index.find(ID_A.upper())["id"] == ID_A
    assert index.find(" shop  1 ")["id"] == ID_A
    assert index.find("Nowhere") is None
    with pytest.raises(AmbiguousName) as err:
        index.find("Kazan 5")
    assert ID_B in str(err.value) and ID_C in str(err.value) and "identify it by id" in str(err.value)
    assert index.find_unique("KAZAN 5") is None
    assert index.shared_names() == frozenset(["Kazan 5", "kazan 5"]) or "Kazan 5" in index.shared_names()
