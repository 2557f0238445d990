# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import new_activation_code, record_code
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    bindings_after,
    plan_bindings,
    resolve_references,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import PointIndex

ID_A = "11111111-1111-4111-8111-111111111111"
ID_B = "22222222-2222-4222-8222-222222222222"
ID_C = "33333333-3333-4333-8333-333333333333"


def point(point_id, name, serial=None):
    if serial:
        return {"id": point_id, "name": name, "kktStatus": "REGISTERED", "kkmInfo": {"serialNumber": serial}}
    return {"id": point_id, "name": name, "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None}


def plan(serial, bindings, points, references, state="bound", exclusive=False):
    return plan_bindings(serial, bindings, resolve_references(references, PointIndex(points)), state, exclusive)


def test_nothing_to_do_when_the_cabinet_says_this_register_holds_them():
    points = [point(ID_A, "A", "SN-1"), point(ID_B, "B", "SN-1")]
    assert plan("SN-1", [], points, ["A", ID_B]) == []


def test_bind_and_rebind():
    points = [point(ID_A, "A"), point(ID_B, "B", "SN-2")]
    actions = plan("SN-1", [], points, ["A", "B"])
    assert [(a.action, a.id, a.previous_register) for a in actions] == [("bind", ID_A, None), ("rebind", ID_B, "SN-2")]


def test_exclusive_releases_points_not_listed():
    points = [point(ID_A, "A", "SN-1")]
    bindings = [{"retailPointId": ID_A, "name": "A"}, {"retailPointId": ID_C, "name": "C"}]
    actions = plan("SN-1", bindings, points, ["A"], exclusive=True)
    assert [(a.action, a.id) for a in actions] == [("unbind", ID_C)]
    assert bindings_after(bindings, actions) == ["A"]


def test_exclusive_with_no_points_releases_everything():
    bindings = [{"retailPointId": ID_A, "name": "A"}, {"retailPointId": ID_C, "name": "C"}]
    actions = plan("SN-1", bindings, [], [], exclusive=True)
    assert sorted(a.id for a in actions) == [ID_A, ID_C]


def test_unbound_releases_only_points_held_here():
    points = [point(ID_A, "A", "SN-1"), point(ID_B, "B", "SN-2")]
    actions = plan("SN-1", [{"retailPointId": ID_A, "name": "A"}], points, ["A", "B"], state="unbound")
    assert [(a.action, a.id) for a in actions] == [("unbind", ID_A)]


def test_missing_point_is_a_planned_bind_for_check_mode():
    actions = plan("SN-1", [], [], ["Not yet created"])
    assert [(a.action, a.id, a.name) for a in actions] == [("bind", None, "Not yet created")]
    assert bindings_after([], actions) == ["Not yet created"]


def test_ambiguous_names_are_refused():
    with pytest.raises(ValueError) as err:
        plan("SN-1", [], [point(ID_A, "Same"), point(ID_B, "Same")], ["Same"])
    assert ID_A in str(err.value) and ID_B in str(err.value)


def test_references_are_compared_as_names_everywhere_ignoring_case_and_spaces():
    points = [point(ID_A, "Shop 1"), point(ID_B, "kazan 5"), point(ID_C, "Kazan 5")]
    actions = plan("SN-1", [], points, [" shop  1"])
    assert [(a.action, a.id) for a in actions] == [("bind", ID_A)]
    with pytest.raises(ValueError) as err:  # two points share the name, even spelt exactly as one of them
        plan("SN-1", [], points, ["Kazan 5"])
    assert ID_B in str(err.value) and ID_C in str(err.value)


def test_codes_are_eight_random_digits():
    codes = set(new_activation_code() for dummy in range(200))
    assert all(len(c) == 8 and c.isdigit() for c in codes)
    assert len(codes) > 190


def test_code_file_is_private_and_merged(tmp_path):
    path = str(tmp_path / "codes.json")
    record_code(path, "Shop A", ID_A, "12345678")
    record_code(path, "Shop B", ID_B, "87654321")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        data = json.load(handle)
    assert data["Shop A"]["code"] == "12345678" and data["Shop B"]["id"] == ID_B
    record_code(path, "Shop A", ID_A, "11112222")
    with open(path) as handle:
        assert json.load(handle)["Shop A"]["code"] == "11112222"
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith(".codes-")] == []


def test_code_file_directory_is_made_private_when_missing(tmp_path):
    path = str(tmp_path / "sealed" / "codes.json")
    record_code(path, "Shop A", ID_A, "12345678")
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_unwritable_code_file_is_found_before_a_code_is_issued(tmp_path):
    from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import unwritable_reason
    assert unwritable_reason(str(tmp_path / "new" / "deeper" / "codes.json")) is None
    assert "is a directory" in unwritable_reason(str(tmp_path))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.geteuid() != 0:  # root writes anywhere; the rule still holds for everyone else
            assert "not a writable directory" in unwritable_reason(str(locked / "codes.json"))
    finally:
        locked.chmod(0o700)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "not a writable directory" in unwritable_reason(str(blocker / "codes.json"))
