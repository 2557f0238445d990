# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property (issue 6): for random desired and actual sets of points, plan then apply makes the cabinet equal the
declaration, planning again yields nothing, and check mode predicts exactly what apply does.

Against an in-memory cabinet with the API's semantics (409 on an existing id, deep-merged PUT); the same property
runs a few examples against the real emulator in tests/integration/test_planner_properties_emulator.py.
"""

from __future__ import annotations

import copy
import fnmatch
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from point_properties import (  # noqa: E402
    FOLDED_NAMES,
    LOGIN,
    NAMES,
    InMemoryCabinet,
    actual_points,
    assert_converged,
    converge,
    delete_forbidden,
    designated,
    desired_points,
    is_active,
    predicted_equals_applied,
)

from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (  # noqa: E402
    PointInputError,
    point_id_for,
    point_name_key,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (  # noqa: E402
    PlanError,
    apply_plan,
    normalize_specs,
    plan_points,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(desired=desired_points(), actual=actual_points(names=NAMES + FOLDED_NAMES), purge=st.booleans())
def test_plan_then_apply_converges_and_replanning_is_empty(desired, actual, purge):
    cabinet = InMemoryCabinet(actual)
    predicted = converge(InMemoryCabinet(actual), desired, purge, check_mode=True)
    applied = converge(cabinet, desired, purge)
    if isinstance(applied, (PointInputError, PlanError)):  # contradicts the cabinet: refused, nothing written
        assert type(predicted) is type(applied) and cabinet.writes == 0
        return
    assert_converged(desired, purge, actual, cabinet.list_points())
    predicted_equals_applied(predicted, applied)

    writes = cabinet.writes
    again = converge(cabinet, desired, purge)
    assert [c for c in again if c.changed] == [], [(c.name, c.action, c.fields) for c in again if c.changed]
    assert cabinet.writes == writes


@SETTINGS
@given(desired=desired_points(), actual=actual_points(), lost=st.data())
def test_a_create_whose_answer_was_lost_converges_on_the_retry(desired, actual, lost):
    """Some creates commit and then "fail" (as a dropped answer would); a second run converges, no duplicate."""
    cabinet = InMemoryCabinet(actual)
    declared_names = [spec["name"] for spec in desired if spec.get("state") != "absent"]
    committed = lost.draw(st.lists(st.sampled_from(declared_names), unique=True)) if declared_names else []
    for spec in desired:
        if spec["name"] in committed and not any(p["name"] == spec["name"] for p in actual):
            body = {"id": point_id_for(LOGIN, spec["name"]), "name": spec["name"]}
            cabinet.create_point(copy.deepcopy(body))  # the write landed; the run that made it never knew
    if not isinstance(converge(cabinet, desired, purge=False), PointInputError):
        assert_converged(desired, False, actual, cabinet.list_points())


EXCLUDE_ENTRIES = ["shop *", "SHOP 3", "Магазин*", "[!S]*", "nothing"]


@SETTINGS
@given(desired=desired_points(), actual=actual_points(names=NAMES + FOLDED_NAMES, health=True),
       exclude=st.lists(st.sampled_from(EXCLUDE_ENTRIES), unique=True, max_size=2), check_mode=st.booleans())
def test_a_purge_deletes_exactly_the_undeclared_points_no_guard_holds(desired, actual, exclude, check_mode):
    """Of the cabinet points the declaration does not designate, a purge deletes those that are neither active on a
    register, nor under registration, nor matched by purge_exclude, and keeps the others with a reason (check mode
    predicts the same plan and writes nothing)."""
    desired = [spec for spec in desired if spec.get("state") != "absent"]  # explicit deletes: the next property
    cabinet = InMemoryCabinet(actual)
    try:
        changes = plan_points(normalize_specs(desired), cabinet.list_points(), LOGIN, purge=True,
                              purge_exclude=exclude, purge_max=-1)
    except (PointInputError, PlanError):
        assert cabinet.writes == 0  # a contradiction or an ambiguous name: refused before any write
        return
    failed = apply_plan(changes, cabinet, check_mode=check_mode)
    assert not failed, [(c.name, c.error) for c in failed]
    left = set(p["id"] for p in cabinet.list_points())
    declared = set(p["id"] for spec in desired for p in designated(spec["name"], actual))
    for point in actual:
        if point["id"] in declared:
            continue
        excluded = any(fnmatch.fnmatchcase(point_name_key(point["name"]), point_name_key(entry)) for entry in exclude)
        guarded = is_active(point) or delete_forbidden(point) or excluded
        planned = [c for c in changes if c.id == point["id"]]
        assert [c.action for c in planned] == ["keep" if guarded else "delete"], point
        assert (point["id"] in left) is (guarded or check_mode), point
        if guarded:
            result = planned[0].result()
            assert result["reason"] and result["outcome"] == "unchanged" and result["guards"], result


@SETTINGS
@given(actual=actual_points(health=True), data=st.data())
def test_an_explicit_delete_ignores_the_guards_and_says_what_it_costs(actual, data):
    """``state: absent`` deletes the point it names even when it is active on a register (the plan says so); a point
    under registration is refused by the cabinet, and the failure says why; nothing else is touched."""
    if not actual:
        return
    names = data.draw(st.lists(st.sampled_from([p["name"] for p in actual]), unique=True, min_size=1))
    cabinet = InMemoryCabinet(actual)
    changes = plan_points(normalize_specs([{"name": n, "state": "absent"} for n in names]), cabinet.list_points(),
                          LOGIN, purge=False)
    failed = apply_plan(changes, cabinet)
    left = dict((p["id"], p) for p in cabinet.list_points())
    for change in changes:
        point = [p for p in actual if p["id"] == change.id][0]
        assert change.action == "delete"
        notices = " ".join(change.notices)
        assert ("takes it from register" in notices) is is_active(point), notices
        assert ("register" in change.changes()) is is_active(point)
        if delete_forbidden(point):
            assert change in failed and point["id"] in left
            assert "tax-office registration is under way" in change.error and "409" in change.error, change.error
        else:
            assert change not in failed and point["id"] not in left
    assert set(left) == set(p["id"] for p in actual if p["name"] not in names or delete_forbidden(p))


# Two examples the emulator property found (a 12-digit INN allows no KPP, and the cabinet checks it across fields).

def _legal_entity(point_id="0f8fad5b-d9cb-469f-a165-70867728950e"):
    return {"id": point_id, "name": "Shop 1", "inn": "7707083893", "settings": {"egaisSettings": {"kpp": "773601001"}}}


def test_an_inn_that_becomes_12_digits_clears_the_kpp_it_no_longer_allows():
    cabinet = InMemoryCabinet([_legal_entity()])
    changes = converge(cabinet, [{"name": "Shop 1", "inn": "500100732259"}], purge=False)
    assert changes[0].fields == ["inn", "kpp"]
    assert (changes[0].before()["kpp"], changes[0].after()["kpp"]) == ("773601001", "")
    assert canonical_of(cabinet, "Shop 1")["kpp"] == ""


def test_a_kpp_for_an_individual_entrepreneur_in_the_cabinet_is_refused_before_any_write():
    cabinet = InMemoryCabinet([dict(_legal_entity(), inn="500100732259", settings={})])
    refused = converge(cabinet, [{"name": "Shop 0"}, {"name": "Shop 1", "kpp": "773601001"}], purge=False)
    assert isinstance(refused, PointInputError) and refused.path == "points[1].kpp"
    assert cabinet.writes == 0


# A legal entity (10-digit INN) needs a KPP: the cabinet refuses a create without one (kpp-required), and an update
# that sets the INN or clears the KPP. A point stored without one, whose INN and KPP the data leaves alone, stays.

@pytest.mark.parametrize("declared, stored, path", [
    ([{"name": "Shop 0"}, {"name": "Shop 9", "inn": "7707083893"}], [], "points[1].kpp"),
    ([{"name": "Shop 9", "inn": "7707083893", "kpp": ""}], [], "points[0].kpp"),
    ([{"name": "Shop 1", "inn": "7707083893"}], [dict(_legal_entity(), inn="500100732259", settings={})],
     "points[0].kpp"),
    ([{"name": "Shop 1", "kpp": ""}], [_legal_entity()], "points[0].kpp"),
], ids=["create", "create-empty-kpp", "inn-becomes-10-digits", "kpp-cleared"])
def test_a_legal_entity_without_kpp_is_refused_before_any_write(declared, stored, path):
    cabinet = InMemoryCabinet(stored)
    refused = converge(cabinet, declared, purge=False)
    assert isinstance(refused, PointInputError) and refused.path == path
    assert "kpp" in str(refused) and "10 digits" in str(refused)
    assert cabinet.writes == 0


def test_a_stored_legal_entity_without_kpp_is_left_alone():
    legacy = dict(_legal_entity(), settings={"defaultVatTag": 1102})  # made before the rule: no KPP
    cabinet = InMemoryCabinet([legacy])
    for declared, fields in (({"name": "Shop 1"}, []), ({"name": "Shop 1", "inn": "7707083893"}, []),
                             ({"name": "Shop 1", "phone": "9123456789", "vat_tag": 1105}, ["phone", "vat_tag"])):
        changes = converge(cabinet, [declared], purge=False)
        assert not isinstance(changes, PointInputError), changes
        assert changes[0].fields == fields
    assert canonical_of(cabinet, "Shop 1")["kpp"] == "" and canonical_of(cabinet, "Shop 1")["phone"] == "9123456789"


def canonical_of(cabinet, name):
    from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import canonical_actual
    return canonical_actual([p for p in cabinet.list_points() if p["name"] == name][0])
