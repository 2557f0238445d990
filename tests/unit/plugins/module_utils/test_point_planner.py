# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner against an in-memory cabinet (a fake client object; HTTP is the client's own tests' job)."""

from __future__ import annotations

import copy
import threading

import pytest
import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetConflict,
    CabinetNotFound,
    CabinetUnavailable,
    WritesStopped,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError, point_id_for
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    PlanError,
    apply_plan,
    normalize_specs,
    plan_points,
    summary_of,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import points_diff as diff_of

LOGIN = "ops@example.com"


def diff_by_point(diff):
    """{point name: (before, after)} from the list of YAML diff entries."""
    parsed = {}
    for entry in diff:
        name = entry["before_header"][len("retail point "):-len(" (now)")]
        assert entry["after_header"] == "retail point %s (declared)" % name
        parsed[name] = (yaml.safe_load(entry["before"]), yaml.safe_load(entry["after"]))
    return parsed


class FakeCabinet(object):
    """Just enough of CabinetClient: a dict of points, write counting, injectable failures."""

    def __init__(self, points=()):
        self.points = dict((p["id"], copy.deepcopy(p)) for p in points)
        self.writes = []
        self.fail_names = set()
        self.commit_then_lose_answer = set()  # names whose create commits, then the answer is "lost"
        self.lock = threading.Lock()

    def list_points(self):
        return [copy.deepcopy(p) for p in self.points.values()]

    def get_point(self, point_id):
        if point_id not in self.points:
            raise CabinetNotFound("not found", status=404)
        return copy.deepcopy(self.points[point_id])

    def create_point(self, body):
        with self.lock:
            self.writes.append(("POST", body["id"]))
            if body.get("name") in self.fail_names:
                raise CabinetUnavailable("POST failed after 4 attempts: HTTP 503", status=503)
            if body["id"] in self.points:
                raise CabinetConflict("exists", status=409)
            point = {"kktStatus": "KKT_NOT_PLUGGED", "posLinkToken": None}
            point.update(copy.deepcopy(body))
            self.points[body["id"]] = point
            if body.get("name") in self.commit_then_lose_answer:
                self.commit_then_lose_answer.discard(body["name"])
                raise CabinetConflict("retried POST hit its own commit", status=409)
            return copy.deepcopy(point)

    def update_point(self, point_id, partial):
        with self.lock:
            self.writes.append(("PUT", point_id))
            point = self.points[point_id]
            if point.get("name") in self.fail_names:
                raise CabinetUnavailable("PUT failed", status=503)
            for key, value in partial.items():
                if isinstance(value, dict):
                    node = point.setdefault(key, {})
                    for k2, v2 in value.items():
                        if isinstance(v2, dict):
                            node.setdefault(k2, {}).update(v2)
                        else:
                            node[k2] = v2
                else:
                    point[key] = value
            return copy.deepcopy(point)

    def delete_point(self, point_id):
        with self.lock:
            self.writes.append(("DELETE", point_id))
            if point_id not in self.points:
                raise CabinetNotFound("gone", status=404)
            del self.points[point_id]


def converge(cabinet, specs, purge=False, check_mode=False, concurrency=4):
    changes = plan_points(normalize_specs(specs), cabinet.list_points(), LOGIN, purge=purge)
    failed = apply_plan(changes, cabinet, check_mode=check_mode, concurrency=concurrency)
    return changes, failed


SPECS = [
    {"name": "Shop 1", "address": "Moscow 1", "phone": "+7 912 345-67-89", "inn": "7707083893", "kpp": "773601001",
     "tax_mode": "COMMON", "vat_tag": 1102, "fiscal_service_enabled": False},
    {"name": "Shop 2", "address": "Kazan 5", "inn": "500100732259", "tax_mode": "PATENT", "vat_tag": 1105},
]


def test_create_then_reapply_is_unchanged():
    cabinet = FakeCabinet()
    changes, failed = converge(cabinet, SPECS)
    assert not failed and [c.action for c in changes] == ["create", "create"]
    assert sorted(cabinet.points) == sorted(point_id_for(LOGIN, s["name"]) for s in SPECS)
    writes = len(cabinet.writes)
    changes, failed = converge(cabinet, SPECS)
    assert [c.action for c in changes] == ["unchanged", "unchanged"]
    assert len(cabinet.writes) == writes


def test_check_mode_writes_nothing_and_predicts():
    cabinet = FakeCabinet()
    changes, dummy = converge(cabinet, SPECS, check_mode=True)
    assert cabinet.writes == [] and cabinet.points == {}
    assert [c.outcome for c in changes] == ["predicted", "predicted"]
    assert changes[0].point["settings"]["egaisSettings"]["kpp"] == "773601001"


def test_update_sends_only_changed_fields_and_diff_shows_them():
    cabinet = FakeCabinet()
    converge(cabinet, SPECS)
    specs = copy.deepcopy(SPECS)
    specs[0]["vat_tag"] = 1103
    changes, dummy = converge(cabinet, specs)
    assert [c.action for c in changes] == ["update", "unchanged"]
    assert changes[0].fields == ["vat_tag"]
    diff = diff_by_point(diff_of(changes))
    assert diff["Shop 1"][0]["vat_tag"] == 1102 and diff["Shop 1"][1]["vat_tag"] == 1103
    assert "Shop 2" not in diff


def test_changes_give_before_and_after_per_field_as_the_diff_does():
    cabinet = FakeCabinet()
    changes, dummy = converge(cabinet, SPECS[:1], check_mode=True)
    created = changes[0].result()["changes"]
    assert created["state"] == {"before": "absent", "after": "present"}
    assert created["phone"] == {"before": None, "after": "9123456789"}
    converge(cabinet, SPECS)
    specs = copy.deepcopy(SPECS)
    specs[0].update(vat_tag=1103, phone="8 912 345 67 00")
    changes, dummy = converge(cabinet, specs, check_mode=True)
    assert changes[0].result()["changes"] == {"phone": {"before": "9123456789", "after": "9123456700"},
                                              "vat_tag": {"before": 1102, "after": 1103}}
    assert changes[1].result()["changes"] == {}
    changes, dummy = converge(cabinet, [dict(SPECS[1], state="absent")], check_mode=True)
    assert changes[0].result()["changes"] == {"state": {"before": "present", "after": "absent"}}


def test_purge_deletes_only_undeclared_points():
    stray = {"id": "stray-1", "name": "Old shop"}
    cabinet = FakeCabinet([stray])
    changes, dummy = converge(cabinet, SPECS, purge=False)
    assert "stray-1" in cabinet.points
    changes, dummy = converge(cabinet, SPECS, purge=True)
    assert [c.action for c in changes] == ["unchanged", "unchanged", "delete"]
    assert "stray-1" not in cabinet.points
    assert diff_by_point(diff_of(changes))["Old shop"][1] == {"state": "absent"}


def test_state_absent_deletes_and_is_idempotent():
    cabinet = FakeCabinet()
    converge(cabinet, SPECS)
    changes, dummy = converge(cabinet, [{"name": "Shop 1", "state": "absent"}])
    assert changes[0].action == "delete" and len(cabinet.points) == 1
    changes, dummy = converge(cabinet, [{"name": "Shop 1", "state": "absent"}])
    assert changes[0].action == "absent" and not changes[0].changed


def test_lost_create_answer_converges_instead_of_duplicating():
    cabinet = FakeCabinet()
    cabinet.commit_then_lose_answer.add("Shop 1")
    changes, failed = converge(cabinet, SPECS[:1])
    assert not failed and changes[0].outcome == "done"
    assert len(cabinet.points) == 1


def test_conflict_with_a_renamed_point_converges_it_back():
    cabinet = FakeCabinet()
    converge(cabinet, SPECS[:1])
    point_id = point_id_for(LOGIN, "Shop 1")
    cabinet.points[point_id]["name"] = "Renamed by hand"
    changes, failed = converge(cabinet, SPECS[:1])
    assert changes[0].action == "create" and not failed
    assert cabinet.points[point_id]["name"] == "Shop 1" and len(cabinet.points) == 1


def test_partial_failure_reports_what_was_done():
    cabinet = FakeCabinet()
    cabinet.fail_names.add("Shop 2")
    changes, failed = converge(cabinet, SPECS)
    assert [c.name for c in failed] == ["Shop 2"]
    assert changes[0].outcome == "done" and changes[1].outcome == "failed"
    assert "503" in changes[1].result()["error"]
    cabinet.fail_names.clear()
    changes, failed = converge(cabinet, SPECS)
    assert [c.action for c in changes] == ["unchanged", "create"] and not failed


def test_ambiguous_name_fails_before_writing():
    cabinet = FakeCabinet([{"id": "a", "name": "Shop 1"}, {"id": "b", "name": "Shop 1"}])
    with pytest.raises(PlanError) as err:
        converge(cabinet, SPECS[:1])
    assert "a, b" in str(err.value)
    assert cabinet.writes == []


@pytest.mark.parametrize("other", ["shop 1", "SHOP 1", " Shop   1 ", "Shop\u00a01", "Ｓｈｏｐ 1"])
def test_names_equal_after_folding_are_one_name_in_the_declaration(other):
    with pytest.raises(PointInputError) as err:
        normalize_specs([{"name": "Shop 1"}, {"name": "Shop 2"}, {"name": other}])
    assert err.value.path == "points[2].name"
    assert "duplicates points[0].name ('Shop 1')" in err.value.rule and "ignoring letter case and spaces" in err.value.rule


@pytest.mark.parametrize("in_cabinet", ["shop 1", "SHOP  1", "Shop\u00a01"])
def test_a_cabinet_point_spelt_differently_is_that_point_renamed_not_a_near_duplicate(in_cabinet):
    cabinet = FakeCabinet([{"id": "p", "name": in_cabinet, "address": "Moscow 1"}])
    changes, failed = converge(cabinet, [{"name": "Shop 1", "address": "Moscow 1"}])
    assert not failed
    assert [(c.action, c.id, c.fields) for c in changes] == [("update", "p", ["name"])]
    assert changes[0].changes() == {"name": {"before": in_cabinet.strip(), "after": "Shop 1"}}
    assert cabinet.writes == [("PUT", "p")] and [p["name"] for p in cabinet.points.values()] == ["Shop 1"]
    again, dummy = converge(cabinet, [{"name": "Shop 1", "address": "Moscow 1"}])
    assert [c.action for c in again] == ["unchanged"]


def test_a_purge_keeps_the_point_matched_after_folding():
    cabinet = FakeCabinet([{"id": "p", "name": "shop 1"}, {"id": "q", "name": "Other"}])
    changes, dummy = converge(cabinet, [{"name": "Shop 1"}], purge=True)
    assert sorted((c.action, c.id) for c in changes) == [("delete", "q"), ("update", "p")]


def test_a_name_folding_onto_several_cabinet_points_is_ambiguous_naming_their_ids():
    cabinet = FakeCabinet([{"id": "a", "name": "shop 1"}, {"id": "b", "name": "SHOP 1"}])
    with pytest.raises(PlanError) as err:
        converge(cabinet, [{"name": "Shop 1"}])
    assert "ids a, b" in str(err.value) and "ignoring letter case" in str(err.value)
    assert cabinet.writes == []


def test_near_duplicates_in_the_cabinet_make_even_the_exact_spelling_ambiguous():
    """Two cabinet points whose names differ only in case share one name: D6, like two spelt alike."""
    id_a, id_b = "0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    cabinet = FakeCabinet([{"id": id_a, "name": "shop 1"}, {"id": id_b, "name": "Shop 1"}])
    with pytest.raises(PlanError) as err:
        converge(cabinet, [{"name": "Shop 1"}])
    assert "ids %s, %s" % (id_a, id_b) in str(err.value) and cabinet.writes == []
    # The way out the message gives: identify it by id (and remove the near-duplicate).
    changes, dummy = converge(cabinet, [{"id": id_b, "name": "Shop 1"}, {"id": id_a, "state": "absent"}])
    assert [(c.action, c.id) for c in changes] == [("unchanged", id_b), ("delete", id_a)]


def test_id_identifies_and_renames():
    legacy = "0f8fad5b-d9cb-469f-a165-70867728950e"
    cabinet = FakeCabinet([{"id": legacy, "name": "Old name"}])
    changes, dummy = converge(cabinet, [{"id": legacy.upper(), "name": "New name"}])  # any case: ids are UUIDs
    assert changes[0].action == "update" and changes[0].fields == ["name"]
    assert cabinet.points[legacy]["name"] == "New name"


@pytest.mark.parametrize("specs,path", [
    ([{"name": "A"}, {"name": "A"}], "points[1].name"),
    ([{"id": "0f8fad5b-d9cb-469f-a165-70867728950e", "name": "A"},
      {"id": "0F8FAD5B-D9CB-469F-A165-70867728950E", "name": "B"}], "points[1].id"),
    ([{"id": "../../etc/passwd", "name": "A"}], "points[0].id"),
    ([{"address": "no name"}], "points[0].name"),
    ([{"name": "A"}, {"name": "B", "inn": "1111111111"}], "points[1].inn"),
    (["not a mapping"], "points[0]"),
])
def test_bad_specs_fail_before_any_request(specs, path):
    with pytest.raises(PointInputError) as err:
        normalize_specs(specs)
    assert err.value.path == path


def test_concurrent_writes_all_land():
    cabinet = FakeCabinet()
    specs = [{"name": "Shop %03d" % i, "vat_tag": 1105} for i in range(60)]
    changes, failed = converge(cabinet, specs, concurrency=8)
    assert not failed and len(cabinet.points) == 60
    assert summary_of(changes)["create"] == 60


def test_unmanaged_fields_are_left_alone():
    cabinet = FakeCabinet([{"id": "p", "name": "Shop 1", "address": "kept", "settings": {"defaultVatTag": 1102}}])
    changes, dummy = converge(cabinet, [{"name": "Shop 1", "phone": "9123456789"}])
    assert changes[0].fields == ["phone"]
    assert cabinet.points["p"]["address"] == "kept" and cabinet.points["p"]["settings"]["defaultVatTag"] == 1102


# ---- tax data ---------------------------------------------------------------------------------------------------

def test_a_rate_by_name_converges_a_point_set_by_number_without_a_write():
    cabinet = FakeCabinet()
    converge(cabinet, [dict(SPECS[0], vat_tag=1113)])
    writes = len(cabinet.writes)
    changes, dummy = converge(cabinet, [dict((k, v) for k, v in SPECS[0].items() if k != "vat_tag") | {"vat": "VAT_22"}])
    assert [c.action for c in changes] == ["unchanged"] and len(cabinet.writes) == writes
    changes, dummy = converge(cabinet, [dict((k, v) for k, v in SPECS[0].items() if k != "vat_tag") | {"vat": "VAT_5"}])
    assert changes[0].changes() == {"vat_tag": {"before": 1113, "after": 1109}}


def test_creating_an_envd_point_fails_before_any_write():
    cabinet = FakeCabinet()
    specs = [SPECS[1], dict(SPECS[0], tax_mode="ENVD")]
    with pytest.raises(PointInputError) as err:
        converge(cabinet, specs)
    assert err.value.path == "points[1].tax_mode" and "abolished" in str(err.value)
    assert cabinet.writes == []


def test_an_existing_envd_point_is_left_alone_with_a_notice():
    envd = {"id": point_id_for(LOGIN, "Shop 1"), "name": "Shop 1", "settings": {"defaultTaxMode": "ENVD", "defaultVatTag": 1105}}
    cabinet = FakeCabinet([envd])
    for spec in ({"name": "Shop 1", "tax_mode": "ENVD"}, {"name": "Shop 1", "vat": "NO_VAT"}):
        changes, failed = converge(cabinet, [spec])
        assert not failed and [c.action for c in changes] == ["unchanged"] and cabinet.writes == []
        notices = changes[0].result()["notices"]
        assert len(notices) == 1 and "ENVD" in notices[0]
    changes, dummy = converge(cabinet, [{"name": "Shop 1", "tax_mode": "SIMPLIFIED"}])
    assert changes[0].action == "update" and "notices" not in changes[0].result()


def test_a_stopped_run_starts_no_new_write_and_marks_the_rest_not_attempted():
    """The client refuses the 3rd write (the controller is gone): no write after it starts, the rest are not_attempted."""
    class StoppingCabinet(FakeCabinet):
        def create_point(self, body):
            if len(self.writes) >= 2:
                raise WritesStopped("POST /api/v1/retail-points not sent: the controller is gone")
            return FakeCabinet.create_point(self, body)

    cabinet = StoppingCabinet()
    specs = [{"name": "Shop %d" % i} for i in range(10)]
    changes, failed = converge(cabinet, specs, concurrency=1)
    assert [c.outcome for c in changes] == ["done", "done"] + ["not_attempted"] * 8
    assert failed == [] and len(cabinet.writes) == 2 and "controller is gone" in changes[2].error
    changes, failed = converge(StoppingCabinet(), specs, concurrency=4)
    assert sum(c.outcome == "done" for c in changes) <= 2 + 3  # writes in flight on the other threads may finish
    assert all(c.outcome in ("done", "not_attempted") for c in changes)
