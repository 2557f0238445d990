# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report's health section and the set_stats summary's health, from results shaped like the plugins'."""

from __future__ import annotations

import json

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._health import health_of, register_health
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import activation_of, public_point
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_collector import DriftCollector
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_markdown import render_markdown
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_masker import SecretMasker
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_summary import drift_summary, unfinished


def _point(point_id, name, kkt="REGISTERED", registration="NOT_EXISTS", serial=None):
    point = {"id": point_id, "name": name, "kktStatus": kkt, "registrationRequestStatus": registration,
             "kkmInfo": {"serialNumber": serial, "model": "M"} if serial else None, "posLinkToken": None}
    if kkt == "KKT_NOT_PLUGGED":
        point["kkmInfo"] = None
    return point


def _points_result(*points):
    """modulkassa.pos.retail_points: an entry per declared point with activation and health, as the planner gives."""
    return {"changed": False, "results": [
        {"name": p["name"], "id": p["id"], "action": "unchanged", "changed_fields": [], "changes": {},
         "outcome": "unchanged", "activation": activation_of(p), "health": health_of(p)} for p in points]}


def _register_result(serial, *points, changed=False):
    return {"changed": changed, "serial": serial, "actions": [], "changes": {},
            "health": register_health(serial, points)}


SHOP_OK = _point("id-1", "Shop 1", serial="SN-1")
SHOP_NO_FN = _point("id-2", "Shop | 2", kkt="FN_NOT_PLUGGED", serial="SN-2")
SHOP_REFUSED = _point("id-3", "Shop 3", kkt="NOT_REGISTERED", registration="ERROR", serial="SN-3")
SHOP_UNDER_WAY = _point("id-4", "Shop 4", kkt="NOT_REGISTERED", registration="OFD_WAIT_RNM", serial="SN-4")
SHOP_UNBOUND = _point("id-5", "Shop 5", kkt="KKT_NOT_PLUGGED")


def _audit(fail_on_health=None, failed=False, drift=False):
    collector = DriftCollector(SecretMasker(), fail_on_health=fail_on_health)
    collector.playbook = "audit.yml"
    collector.play_check_modes = [True, True, True]
    points = _points_result(SHOP_OK, SHOP_NO_FN, SHOP_UNBOUND)
    if drift:
        points["results"][0].update(action="update", changes={"phone": {"before": "1", "after": "2"}})
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", points, check_mode=True)
    # the registers role's listing: every point of the account (also those the data does not declare)
    listing = {"changed": False, "points": [public_point(p) for p in (SHOP_OK, SHOP_NO_FN, SHOP_REFUSED,
                                                                      SHOP_UNDER_WAY, SHOP_UNBOUND)]}
    collector.add("localhost", "list", "modulkassa.pos.retail_point_info", "ok", listing, check_mode=False)
    collector.add("reg01", "bind", "modulkassa.pos.register", "ok", _register_result("SN-1", SHOP_OK), check_mode=True)
    collector.add("reg02", "bind", "modulkassa.pos.register", "failed" if failed else "ok",
                  dict(_register_result("SN-2", SHOP_NO_FN), **({"failed": True, "msg": "boom"} if failed else {})),
                  check_mode=True)
    return collector.report()


def test_the_health_section_counts_every_point_read_and_lists_those_with_findings():
    report = _audit()
    assert (report["status"], report["exit_code"]) == ("no_drift", 0)  # health trouble is not drift
    health = report["health"]
    assert (health["severity"], health["trouble"], health["fail_on"], health["failing"]) == (
        "critical", True, None, False)
    assert health["summary"] == {"points": 5, "points_in_trouble": 2, "registers_in_trouble": 2,
                                 "points_informational": 1}
    assert health["counts"]["kkt_status"] == {"FN_NOT_PLUGGED": 1, "KKT_NOT_PLUGGED": 1, "NOT_REGISTERED": 2,
                                              "REGISTERED": 1}
    assert [(p["name"], p["register_serial"], p["register_host"], p["severity"]) for p in health["points"]] == [
        ("Shop 3", "SN-3", None, "critical"), ("Shop | 2", "SN-2", "reg02", "critical"),
        ("Shop 4", "SN-4", None, "info")]
    assert [(r["serial"], r["host"], r["states"]) for r in health["registers"]] == [
        ("SN-2", "reg02", ["FN_NOT_PLUGGED"]), ("SN-3", None, ["ERROR"])]


def test_the_last_read_of_a_point_wins():
    collector = DriftCollector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", _points_result(SHOP_OK))
    # the register read it later (after binding it): its word is the newer one
    fresh = dict(SHOP_OK, kktStatus="POS_VERSION_OUTDATED")
    collector.add("reg01", "bind", "modulkassa.pos.register", "changed", _register_result("SN-1", fresh))
    assert [(p["id"], p["kkt_status"]) for p in collector.report()["health"]["points"]] == [
        ("id-1", "POS_VERSION_OUTDATED")]


def test_a_single_point_result_and_an_unreachable_register_give_their_health_too():
    collector = DriftCollector()
    collector.add("localhost", "point", "modulkassa.pos.retail_point", "ok",
                  {"changed": False, "name": "Shop | 2", "id": "id-2", "changes": {}, "point": public_point(SHOP_NO_FN)})
    lost = dict(_register_result("SN-3", SHOP_REFUSED), unreachable=True, msg="connection lost")
    collector.add("reg03", "bind", "modulkassa.pos.register", "unreachable", lost)
    health = collector.report()["health"]
    assert [(p["id"], p["register_host"]) for p in health["points"]] == [("id-3", "reg03"), ("id-2", None)]


@pytest.mark.parametrize("fail_on, drift, failed, exit_code, failing", [
    ("warning", False, False, 3, True),
    ("critical", False, False, 3, True),
    ("warning", True, False, 3, True),  # asked for: health wins over drift (the status still says drift)
    ("warning", False, True, 1, True),  # an error stays an error
    (None, True, False, 2, False),
])
def test_fail_on_health_makes_the_exit_code_3_unless_there_is_an_error(fail_on, drift, failed, exit_code, failing):
    report = _audit(fail_on_health=fail_on, failed=failed, drift=drift)
    assert (report["exit_code"], report["health"]["failing"]) == (exit_code, failing)
    assert report["status"] == ("error" if failed else "drift" if drift else "no_drift")
    markdown = render_markdown(report)
    assert ("exit code **%d**" % exit_code) in markdown
    assert ("fails this run (exit code 3)" in markdown) == failing


def test_fail_on_critical_ignores_a_warning():
    collector = DriftCollector(fail_on_health="critical")
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok",
                  _points_result(_point("id-9", "Old app", kkt="POS_VERSION_OUTDATED", serial="SN-9")))
    report = collector.report()
    assert (report["exit_code"], report["health"]["severity"], report["health"]["failing"]) == (0, "warning", False)
    with pytest.raises(ValueError):
        DriftCollector(fail_on_health="info")


def test_markdown_health_section_rows_counts_and_escaping():
    markdown = render_markdown(_audit())
    assert "### Register health: 2 point(s) in trouble on 2 register(s), worst: critical" in markdown
    assert "Health trouble is not drift" in markdown
    assert ("kktStatus (5 point(s)): `FN_NOT_PLUGGED` 1 · `KKT_NOT_PLUGGED` 1 · `NOT_REGISTERED` 2 · `REGISTERED` 1"
            in markdown)
    assert "registrationRequestStatus (5 point(s)): `ERROR` 1 · `NOT_EXISTS` 3 · `OFD_WAIT_RNM` 1" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| Shop")]
    assert len(rows) == 3, markdown
    assert rows[0].startswith("| Shop 3 | `SN-3` | registrationRequestStatus `ERROR` (Ошибка регистрации) | critical | "
                              "the tax office refused the registration")
    assert rows[1].startswith("| Shop \\| 2 | reg02 (`SN-2`) | kktStatus `FN_NOT_PLUGGED` (ФН не подключен) | critical "
                              "| the register reports no fiscal drive: insert or replace the ФН")
    assert rows[2].startswith("| Shop 4 | `SN-4` | registrationRequestStatus `OFD_WAIT_RNM`")
    assert "| info |" in rows[2]
    capped = render_markdown(_audit(), max_rows=1)
    assert "... and 2 more row(s): see the JSON report." in capped


def test_no_point_read_no_health_section_and_all_well_says_so():
    empty = DriftCollector().report()
    assert empty["health"]["summary"]["points"] == 0 and empty["health"]["severity"] == "ok"
    assert "Register health" not in render_markdown(empty)
    collector = DriftCollector()
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok", _points_result(SHOP_OK, SHOP_UNBOUND))
    markdown = render_markdown(collector.report())
    assert "### Register health: no trouble" in markdown and "| retail point | register |" not in markdown


def test_the_set_stats_summary_has_the_reports_health_without_advice():
    points = _points_result(SHOP_OK, SHOP_NO_FN, SHOP_UNBOUND)
    listing = {"changed": False, "points": [public_point(p) for p in (SHOP_OK, SHOP_NO_FN, SHOP_REFUSED,
                                                                      SHOP_UNDER_WAY, SHOP_UNBOUND)]}
    registers = {"reg01": _register_result("SN-1", SHOP_OK), "reg02": _register_result("SN-2", SHOP_NO_FN)}
    published = drift_summary(points, registers, check_mode=True, cabinet_listing=listing)
    assert (published["status"], published["exit_code"]) == ("no_drift", 0)
    health = published["health"]
    assert health["summary"] == _audit()["health"]["summary"]  # the same reads, the same verdict as the report
    assert health["points"] == [
        {"name": "Shop 3", "id": "id-3", "register_serial": "SN-3", "register_host": None, "kkt_status": "NOT_REGISTERED",
         "registration_status": "ERROR", "severity": "critical"},
        {"name": "Shop | 2", "id": "id-2", "register_serial": "SN-2", "register_host": "reg02",
         "kkt_status": "FN_NOT_PLUGGED", "registration_status": "NOT_EXISTS", "severity": "critical"}]
    assert [(r["serial"], r["host"], r["states"], r["retail_points"]) for r in health["registers"]] == [
        ("SN-2", "reg02", ["FN_NOT_PLUGGED"], ["Shop | 2"]), ("SN-3", None, ["ERROR"], ["Shop 3"])]
    assert "insert or replace" not in json.dumps(published, ensure_ascii=False)
    # capped like the other lists
    capped = drift_summary(points, registers, cabinet_listing=listing, max_objects=1)["health"]
    assert (len(capped["points"]), capped["registers"], capped["omitted"]) == (1, [], 3)
    # without the listing, only what the points play and the registers read
    assert drift_summary(points, registers)["health"]["summary"]["points"] == 3


def test_an_unfinished_summary_claims_no_health():
    health = unfinished()["health"]
    assert (health["severity"], health["trouble"], health["points"]) == ("unknown", False, [])


def _cabinet_audit():
    """modulkassa.pos.bindings_audit's result: reg01 would get a binding, reg02 is as declared, SN-X is undeclared."""
    from ansible_collections.modulkassa.pos.plugins.module_utils._bindings_audit import (
        CabinetView,
        RegisterData,
        audit_register,
        undeclared_holders,
    )
    stray = _point("id-6", "Shop 6", serial="SN-X")
    view = CabinetView([SHOP_OK, SHOP_NO_FN, SHOP_UNBOUND, stray])
    entries = [audit_register(view, RegisterData("reg01", "SN-1", ["Shop 1", "Shop 5"]), True, True),
               audit_register(view, RegisterData("reg02", "SN-2", ["Shop | 2"]), True, True)]
    entries += undeclared_holders(view, {"SN-1", "SN-2"}, {"id-6"}, set())
    return {"changed": True, "ssh_hosts": [], "registers": entries}


def test_registers_audited_from_the_cabinet_are_in_the_summary_with_their_health():
    audit = _cabinet_audit()
    assert [(e["host"], e["serial"], e["health"]["severity"]) for e in audit["registers"]] == [
        ("reg01", "SN-1", "ok"), ("reg02", "SN-2", "critical"), (None, "SN-X", "ok")]
    # the points a register holds or declares, from the audit's one read
    assert [p["id"] for p in audit["registers"][0]["health"]["points"]] == ["id-1", "id-5"]
    skipped = {"skipped": True, "changed": False}  # the register task, skipped for registers read from the cabinet
    published = drift_summary(_points_result(SHOP_OK, SHOP_NO_FN, SHOP_UNBOUND), {"reg01": skipped, "reg02": skipped},
                              check_mode=True, cabinet_audit=audit)
    assert (published["status"], published["exit_code"]) == ("drift", 2)
    assert published["registers"] == [{"host": "reg01", "serial": "SN-1", "verdict": "changed"},
                                      {"host": None, "serial": "SN-X", "verdict": "changed"}]
    assert published["summary"]["registers"]["changed"] == 2 and published["summary"]["registers"]["unchanged"] == 1
    assert [(r["serial"], r["host"], r["states"]) for r in published["health"]["registers"]] == [
        ("SN-2", "reg02", ["FN_NOT_PLUGGED"])]
    # the drift report, given the same audit result, says the same
    collector = DriftCollector()
    collector.play_check_modes = [True]
    collector.add("localhost", "points", "modulkassa.pos.retail_points", "ok",
                  _points_result(SHOP_OK, SHOP_NO_FN, SHOP_UNBOUND), check_mode=True)
    collector.add("reg01", "audit", "modulkassa.pos.bindings_audit", "changed", audit, check_mode=True)
    report = collector.report()
    assert (report["status"], report["health"]["summary"]) == (published["status"], published["health"]["summary"])
    assert report["health"]["registers"][0]["host"] == "reg02"


def test_the_filter_reads_the_cabinet_audit_from_hostvars():
    from ansible_collections.modulkassa.pos.plugins.filter.drift import drift_summary as summary_filter
    skipped = {"skipped": True, "changed": False}
    hostvars = {"reg01": {"registers_result": skipped, "registers_cabinet_audit": _cabinet_audit()},
                "reg02": {"registers_result": skipped, "registers_cabinet_audit": _cabinet_audit()}}
    published = summary_filter(_points_result(SHOP_OK), registers={"hosts": ["reg01", "reg02"], "failed": []},
                               hostvars=hostvars, check_mode=True)
    assert published["status"] == "drift"
    assert [(r["host"], r["verdict"]) for r in published["registers"]] == [("reg01", "changed"), (None, "changed")]
