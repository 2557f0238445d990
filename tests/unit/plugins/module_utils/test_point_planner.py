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
    PurgeRefused,
    apply_plan,
    normalize_specs,
    plan_points,
    summary_of,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_plan import PointPlan
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import diff_entries


def diff_of(changes):
    return diff_entries(PointPlan(changes).diff_entries())


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
            # The cabinet's rule, as the emulator applies it.
            status = self.points[point_id].get("registrationRequestStatus")
            if status not in (None, "NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED"):
                raise CabinetConflict("DELETE /api/v1/retail-point/%s: conflict (409 retail-point-delete-forbidden)"
                                      % point_id, status=409, code="retail-point-delete-forbidden")
            del self.points[point_id]


def converge(cabinet, specs, purge=False, check_mode=False, concurrency=4, **guards):
    changes = plan_points(normalize_specs(specs), cabinet.list_points(), LOGIN, purge=purge, **guards)
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


# ---- purge guards ------------------------------------------------------------------------------------------

def _active(point_id, name, serial="SN-REG01", kkt_status="REGISTERED"):
    return {"id": point_id, "name": name, "kktStatus": kkt_status,
            "kkmInfo": {"serialNumber": serial, "model": "MSPOS-K"} if serial else None}


def _by_id(changes):
    return dict((c.id, c) for c in changes)


@pytest.mark.parametrize("check_mode", [True, False])
def test_purge_keeps_a_point_active_on_a_register_and_says_why(check_mode):
    unnamed = _active("a-2", "Old kiosk", serial=None, kkt_status="NOT_REGISTERED")
    cabinet = FakeCabinet([_active("a-1", "Old till"), unnamed, {"id": "s-1", "name": "Stray"}])
    changes, failed = converge(cabinet, [], purge=True, check_mode=check_mode, purge_max=-1)
    plan = _by_id(changes)
    assert (plan["a-1"].action, plan["a-2"].action, plan["s-1"].action) == ("keep", "keep", "delete")
    assert plan["a-1"].result()["reason"] == "active on register SN-REG01 (kktStatus REGISTERED)"
    assert plan["a-1"].result()["guards"] == ["active"] and plan["a-1"].result()["outcome"] == "unchanged"
    assert plan["a-2"].result()["reason"] == ("active on a register the cabinet names no serial of "
                                              "(kktStatus NOT_REGISTERED)")
    assert plan["a-1"].result()["activation"]["register_serial"] == "SN-REG01"
    assert summary_of(changes)["keep"] == 2 and summary_of(changes)["delete"] == 1
    assert not plan["a-1"].changed and "Old till" not in diff_by_point(diff_of(changes))
    assert cabinet.writes == ([] if check_mode else [("DELETE", "s-1")])
    assert {"a-1", "a-2"} <= set(cabinet.points)


@pytest.mark.parametrize("status, kept", [
    ("STARTED", True), ("OFD_WAIT_RNM", True), ("REPORT_PRINT_ERROR", True), ("A_STATE_OF_TOMORROW", True),
    ("NOT_EXISTS", False), ("DRAFT", False), ("ERROR", False), ("REGISTERED", False), (None, False),
])
def test_purge_keeps_a_point_whose_registration_is_under_way(status, kept):
    point = {"id": "r-1", "name": "Registering"}
    if status:
        point["registrationRequestStatus"] = status
    cabinet = FakeCabinet([point])
    changes, failed = converge(cabinet, [{"name": "Shop 1"}], purge=True)
    change = _by_id(changes)["r-1"]
    assert not failed
    assert change.action == ("keep" if kept else "delete")
    if kept:
        assert change.result()["reason"] == "its tax-office registration is under way (registrationRequestStatus %s)" % status
        assert change.result()["guards"] == ["registration"] and "r-1" in cabinet.points
        assert ("DELETE", "r-1") not in cabinet.writes
    else:
        assert "r-1" not in cabinet.points and "reason" not in change.result()


def test_every_guard_that_holds_a_point_is_named():
    point = dict(_active("b-1", "1C Склад"), registrationRequestStatus="STARTED")
    changes, dummy = converge(FakeCabinet([point]), [{"name": "Shop 1"}], purge=True, check_mode=True,
                              purge_exclude=["1c *"])
    change = _by_id(changes)["b-1"]
    assert change.guards == ["active", "registration", "purge_exclude"]
    assert change.reason == ("active on register SN-REG01 (kktStatus REGISTERED); its tax-office registration is under "
                             "way (registrationRequestStatus STARTED); its name matches the purge_exclude entry '1c *'")


EXCLUDED_ID = "3F2B8C1E-7A4D-4E0B-9C55-2A6F1D8E4B90"


@pytest.mark.parametrize("entry, name, kept", [
    ("1C *", "1C Склад", True),
    ("1C *", "1c  склад", True),          # compared as names are: case and runs of spaces folded
    ("1C *", "Магазин 1C", False),        # the whole name, not a part of it
    ("*склад*", "Большой СКЛАД 2", True),
    ("Shop [old]", "Shop [old]", True),   # an entry equal to the name matches, brackets and all
    ("Shop [old]", "Shop o", True),       # ... and is a pattern too: [old] is one of o, l, d
    ("Shop [[]old]", "Shop [old]", True),
    ("Shop ?", "Shop 12", False),
    ("ｓｈｏｐ 1", "Shop 1", True),        # compatibility forms (full-width letters)
    (EXCLUDED_ID, "Any name", True),     # an id, in any case
    (EXCLUDED_ID[:-1] + "1", "Any name", False),
])
def test_purge_exclude_keeps_the_points_it_names(entry, name, kept):
    point = {"id": EXCLUDED_ID.lower(), "name": name}
    cabinet = FakeCabinet([point])
    changes, dummy = converge(cabinet, [{"name": "Declared"}], purge=True, purge_exclude=[entry])
    change = _by_id(changes)[EXCLUDED_ID.lower()]
    assert change.action == ("keep" if kept else "delete"), (entry, name)
    assert (EXCLUDED_ID.lower() in cabinet.points) is kept
    if kept:
        assert change.guards == ["purge_exclude"]
        assert change.reason == ("its id is the purge_exclude entry %r" % entry if entry == EXCLUDED_ID
                                 else "its name matches the purge_exclude entry %r" % entry)


def test_purge_exclude_does_not_stop_a_declared_point_being_converged():
    cabinet = FakeCabinet([{"id": "c-1", "name": "1C Склад", "address": "old"}])
    changes, dummy = converge(cabinet, [{"name": "1C Склад", "address": "new"}], purge=True, purge_exclude=["1C *"])
    assert [c.action for c in changes] == ["update"] and cabinet.points["c-1"]["address"] == "new"


@pytest.mark.parametrize("entries, path", [
    (["ok", ""], "purge_exclude[1]"), (["  "], "purge_exclude[0]"), ([3], "purge_exclude[0]"),
    ("1C *", "purge_exclude"),
])
def test_a_bad_purge_exclude_entry_is_refused_before_any_write(entries, path):
    cabinet = FakeCabinet([{"id": "s-1", "name": "Stray"}])
    with pytest.raises(PointInputError) as caught:
        converge(cabinet, SPECS, purge=True, purge_exclude=entries)
    assert caught.value.path == path and cabinet.writes == []


@pytest.mark.parametrize("value", [-2, True, "10", 1.5])
def test_a_bad_purge_max_is_refused(value):
    with pytest.raises(PointInputError) as caught:
        converge(FakeCabinet(), SPECS, purge=True, purge_max=value)
    assert caught.value.path == "purge_max" and "-1 for no limit" in caught.value.rule


def _strays(count, prefix="Stray"):
    return [{"id": "%s-%02d" % (prefix.lower(), i), "name": "%s %02d" % (prefix, i)} for i in range(count)]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_purge_over_purge_max_is_refused_before_any_write(check_mode):
    """The plan also creates one point and updates one: none of it is written when the purge is refused."""
    existing = {"id": "e-1", "name": "Shop 2", "address": "old"}
    cabinet = FakeCabinet([existing] + _strays(7))
    before = copy.deepcopy(cabinet.points)
    with pytest.raises(PurgeRefused) as caught:
        converge(cabinet, SPECS, purge=True, check_mode=check_mode, purge_max=6)
    assert cabinet.writes == [] and cabinet.points == before
    message = str(caught.value)
    assert message.startswith("purge would delete 7 points that the list does not declare, more than purge_max "
                              "allows (6): 'Stray 00', 'Stray 01', 'Stray 02', 'Stray 03', 'Stray 04' and 2 more. "
                              "Nothing was written")
    assert "raise purge_max (the fleet variable modulkassa_points_purge_max) to 7 or more" in message
    assert "set it to -1 for no limit" in message
    plan = caught.value.changes
    assert [c.action for c in plan] == ["create", "update"] + ["delete"] * 7


def test_purge_max_counts_only_the_points_the_guards_let_go():
    cabinet = FakeCabinet(_strays(2) + [_active("a-%d" % i, "Till %d" % i) for i in range(5)]
                          + [{"id": "r-1", "name": "Registering", "registrationRequestStatus": "STARTED"}])
    changes, failed = converge(cabinet, SPECS, purge=True, purge_max=2)
    assert summary_of(changes)["delete"] == 2 and summary_of(changes)["keep"] == 6 and not failed


@pytest.mark.parametrize("purge_max, allowed", [(0, False), (2, False), (3, True), (-1, True)])
def test_purge_max_is_the_most_a_purge_may_delete(purge_max, allowed):
    cabinet = FakeCabinet(_strays(3))
    if allowed:
        changes, failed = converge(cabinet, SPECS, purge=True, purge_max=purge_max)
        assert summary_of(changes)["delete"] == 3 and not [k for k in cabinet.points if k.startswith("stray")]
    else:
        with pytest.raises(PurgeRefused):
            converge(cabinet, SPECS, purge=True, purge_max=purge_max)
        assert cabinet.writes == []


def test_the_default_purge_max_is_ten():
    with pytest.raises(PurgeRefused) as caught:
        converge(FakeCabinet(_strays(11)), SPECS, purge=True)
    assert "more than purge_max allows (10)" in str(caught.value)
    changes, dummy = converge(FakeCabinet(_strays(10)), SPECS, purge=True, check_mode=True)
    assert summary_of(changes)["delete"] == 10


def test_explicit_deletes_are_not_counted_by_purge_max():
    cabinet = FakeCabinet(_strays(5))
    specs = [{"name": "Stray %02d" % i, "state": "absent"} for i in range(4)] + SPECS
    changes, failed = converge(cabinet, specs, purge=True, purge_max=1)
    assert summary_of(changes)["delete"] == 5 and not failed and not [k for k in cabinet.points if k.startswith("stray")]


@pytest.mark.parametrize("specs", [[], [{"name": "Stray 00", "state": "absent"}]], ids=["empty", "only-absent"])
def test_a_purge_from_a_list_that_declares_nothing_is_refused_unless_unlimited(specs):
    cabinet = FakeCabinet(_strays(2) + [_active("a-1", "Till")])
    with pytest.raises(PurgeRefused) as caught:
        converge(cabinet, specs, purge=True, purge_max=50)
    assert cabinet.writes == []
    assert "because the list declares no point as present: an empty or truncated list?" in str(caught.value)
    assert "set purge_max (the fleet variable modulkassa_points_purge_max) to -1" in str(caught.value)
    changes, failed = converge(cabinet, specs, purge=True, purge_max=-1)
    assert set(cabinet.points) == {"a-1"} and not failed  # the active point is still kept


def test_a_purge_from_an_empty_list_that_would_delete_nothing_is_not_refused():
    cabinet = FakeCabinet([_active("a-1", "Till")])
    changes, failed = converge(cabinet, [], purge=True)
    assert [c.action for c in changes] == ["keep"] and cabinet.writes == []


def test_without_purge_the_guards_change_nothing():
    cabinet = FakeCabinet(_strays(20) + [_active("a-1", "Till")])
    changes, dummy = converge(cabinet, SPECS, purge=False, purge_max=0, purge_exclude=["*"])
    assert [c.action for c in changes] == ["create", "create"]


def test_an_explicit_delete_of_an_active_point_deletes_it_and_says_so():
    cabinet = FakeCabinet([_active("a-1", "Till 1")])
    changes, dummy = converge(cabinet, [{"name": "Till 1", "state": "absent"}], check_mode=True)
    change = changes[0]
    assert change.action == "delete"
    assert change.notices == ["deleting it takes it from register SN-REG01 (kktStatus REGISTERED): that register can "
                              "no longer sell under it"]
    assert change.result()["changes"] == {"state": {"before": "present", "after": "absent"},
                                          "register": {"before": "SN-REG01", "after": None}}
    before, after = diff_by_point(diff_of(changes))["Till 1"]
    assert before["register"] == "SN-REG01" and after == {"state": "absent"}
    assert change.result()["activation"]["active"] is True
    changes, failed = converge(cabinet, [{"name": "Till 1", "state": "absent"}])
    assert not failed and cabinet.points == {}


def test_an_explicit_delete_the_cabinet_refuses_for_its_registration_says_why():
    cabinet = FakeCabinet([{"id": "r-1", "name": "Registering", "registrationRequestStatus": "OFD_WAIT_RNM"},
                           {"id": "o-1", "name": "Other"}])
    specs = [{"name": "Registering", "state": "absent"}, {"name": "Other", "state": "absent"}]
    changes, dummy = converge(cabinet, specs, check_mode=True)
    assert changes[0].notices == [
        "the cabinet refuses to delete it while its tax-office registration is under way (registrationRequestStatus "
        "OFD_WAIT_RNM; a point can be deleted in NOT_EXISTS, DRAFT, ERROR, REGISTERED): the delete fails until the "
        "request ends"]
    changes, failed = converge(cabinet, specs)
    assert failed == [changes[0]] and set(cabinet.points) == {"r-1"}  # the other delete still happened
    assert changes[0].error.startswith(
        "the cabinet refuses to delete it while its tax-office registration is under way (registrationRequestStatus "
        "OFD_WAIT_RNM when listed; a point can be deleted in NOT_EXISTS, DRAFT, ERROR, REGISTERED): wait until the "
        "request ends, or withdraw it in the cabinet; ")
    assert "409 retail-point-delete-forbidden" in changes[0].error
