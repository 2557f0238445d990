# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The register health table: every value of the cabinet's two enums, one verdict each, what to do, and the rules
that combine them (a started registration speaks for NOT_REGISTERED; an unknown value is a finding of its own)."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils import _health as health
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import activation_of, public_point

# The cabinet's enums, copied here from its web app (KASSA_STATUS, SERVER_STATUS) so that the table cannot lose or
# invent a value without this test noticing.
CABINET_KKT_STATUSES = ("POS_VERSION_OUTDATED", "KKT_NOT_PLUGGED", "KKT_NOT_ENABLED_FOR_FZ54", "FN_NOT_PLUGGED",
                        "NOT_REGISTERED", "REGISTERED")
CABINET_REGISTRATION_STATUSES = (
    "NOT_EXISTS", "DRAFT", "STARTED", "OFD_WAIT_DECL_SIGN", "DECL_SIGNING", "OFD_WAIT_IRUD", "OFD_WAIT_RNM",
    "OFD_WAIT_REPORT", "REPORT_PRINT_REQUESTED", "REPORT_PRINTED", "REPORT_PRINT_ERROR", "OFD_WAIT_REPORT_SIGN",
    "REPORT_SIGNING", "OFD_WAIT_FOR_FINAL_RESPONSE", "REGISTERED", "ERROR")

# The verdict of each value: a change here is a decision, to be made in the table and in the docs together.
EXPECTED_SEVERITY = {
    "kkt_status": {"REGISTERED": "ok", "KKT_NOT_PLUGGED": "ok", "POS_VERSION_OUTDATED": "warning",
                   "KKT_NOT_ENABLED_FOR_FZ54": "critical", "FN_NOT_PLUGGED": "critical", "NOT_REGISTERED": "critical"},
    "registration_status": dict(
        [(state, "info") for state in CABINET_REGISTRATION_STATUSES]
        + [("NOT_EXISTS", "ok"), ("REGISTERED", "ok"), ("ERROR", "critical"), ("REPORT_PRINT_ERROR", "critical")]),
}
VALID_GROUP = re.compile(r"^[a-z_][a-z0-9_]*$")


def test_every_value_of_the_cabinets_enums_has_exactly_one_row():
    rows = health.table_rows()
    enums = (("kkt_status", CABINET_KKT_STATUSES), ("registration_status", CABINET_REGISTRATION_STATUSES))
    for field, cabinet_enum in enums:
        states = [row["state"] for row in rows if row["field"] == field]
        assert sorted(states) == sorted(cabinet_enum), field
        assert len(states) == len(set(states)), field


@pytest.mark.parametrize("row", health.table_rows(), ids=lambda row: "%s=%s" % (row["field"], row["state"]))
def test_each_row_has_its_severity_the_cabinets_words_and_what_to_do(row):
    assert row["severity"] == EXPECTED_SEVERITY[row["field"]][row["state"]]
    assert row["trouble"] == (row["severity"] in ("warning", "critical"))
    assert row["label"] and re.search("[А-Яа-яЁё]", row["label"]), "the cabinet's own (Russian) words"
    assert row["meaning"]
    # Something to do for every finding, nothing for a state that is simply fine.
    assert (row["action"] is None) == (row["severity"] == "ok")
    assert VALID_GROUP.match(row["group"]) and row["group"].startswith("health_")
    finding = health.assess(*((row["state"], "NOT_EXISTS") if row["field"] == "kkt_status"
                              else ("REGISTERED", row["state"])))
    if row["severity"] == "ok":
        assert finding["findings"] == [] and finding["severity"] == "ok"
    else:
        assert [(f["field"], f["state"], f["severity"], f["label"], f["action"], f["known"])
                for f in finding["findings"]] == [
            (row["field"], row["state"], row["severity"], row["label"], row["action"], True)]
        assert finding["trouble"] == row["trouble"]


def test_group_names_are_distinct_and_say_which_status():
    groups = [row["group"] for row in health.table_rows()]
    assert len(groups) == len(set(groups))
    assert health.group_of("kkt_status", "FN_NOT_PLUGGED") == "health_fn_not_plugged"
    assert health.group_of("registration_status", "ERROR") == "health_registration_error"
    # REGISTERED is in both enums: the registration's group says so
    assert health.group_of("registration_status", "REGISTERED") != health.group_of("kkt_status", "REGISTERED")
    assert health.group_of("kkt_status", "SOMETHING_NEW") == health.UNKNOWN_GROUP == "health_unknown"
    assert health.TROUBLE_GROUP not in groups


def test_the_advice_says_what_to_do_in_the_cabinets_terms():
    rows = dict(((row["field"], row["state"]), row) for row in health.table_rows())
    assert "insert or replace the ФН" in rows["kkt_status", "FN_NOT_PLUGGED"]["action"]
    assert "update the МодульКасса app" in rows["kkt_status", "POS_VERSION_OUTDATED"]["action"]
    assert "ФНС" in rows["kkt_status", "NOT_REGISTERED"]["action"]
    assert "register it in the cabinet" in rows["kkt_status", "NOT_REGISTERED"]["action"]
    assert "54-ФЗ" in rows["kkt_status", "KKT_NOT_ENABLED_FOR_FZ54"]["action"]
    refused = rows["registration_status", "ERROR"]["action"]
    assert "refused" in refused and "Регистрация ККТ" in refused and "send the request again" in refused
    assert "send the registration report again" in rows["registration_status", "REPORT_PRINT_ERROR"]["action"]
    assert rows["registration_status", "OFD_WAIT_RNM"]["action"].startswith("wait")


def test_a_started_registration_speaks_for_a_register_not_registered_yet():
    # Not registered and no request: trouble, register it.
    alone = health.assess("NOT_REGISTERED", "NOT_EXISTS")
    assert (alone["severity"], [f["state"] for f in alone["findings"]]) == ("critical", ["NOT_REGISTERED"])
    assert [f["state"] for f in health.assess("NOT_REGISTERED", "DRAFT")["findings"]] == ["NOT_REGISTERED", "DRAFT"]
    # A registration under way: not trouble, the request's state tells what is happening.
    under_way = health.assess("NOT_REGISTERED", "OFD_WAIT_RNM")
    assert (under_way["severity"], under_way["trouble"]) == ("info", False)
    assert [f["state"] for f in under_way["findings"]] == ["OFD_WAIT_RNM"]
    # ... and when the request failed, the failure is the trouble.
    failed = health.assess("NOT_REGISTERED", "ERROR")
    assert (failed["severity"], [f["state"] for f in failed["findings"]]) == ("critical", ["ERROR"])
    assert health.assess("NOT_REGISTERED", "REGISTERED")["findings"] == []


def test_two_troubles_are_both_reported_worst_first():
    both = health.assess("POS_VERSION_OUTDATED", "ERROR")
    assert [(f["state"], f["severity"]) for f in both["findings"]] == [("ERROR", "critical"),
                                                                       ("POS_VERSION_OUTDATED", "warning")]
    assert (both["severity"], both["trouble"]) == ("critical", True)


def test_an_unknown_value_is_reported_as_such_never_dropped():
    found = health.assess("KKT_ON_FIRE", "REGISTERED")
    assert (found["severity"], found["trouble"], found["kkt_status"]) == ("warning", True, "KKT_ON_FIRE")
    [finding] = found["findings"]
    assert (finding["field"], finding["state"], finding["known"], finding["label"]) == (
        "kkt_status", "KKT_ON_FIRE", False, None)
    assert "kktStatus (KKT_ON_FIRE)" in finding["action"] and "does not know" in finding["action"]
    # a value of the other enum, or another spelling, is not guessed into a known one
    assert health.assess("REGISTERED", "registered")["findings"][0]["known"] is False
    assert health.assess("REGISTERED", "FN_NOT_PLUGGED")["findings"][0]["known"] is False


def test_statuses_of_a_point_missing_fields_and_hostile_types():
    assert health.statuses_of({}) == ("KKT_NOT_PLUGGED", "NOT_EXISTS")
    assert health.statuses_of({"kktStatus": None, "registrationRequestStatus": ""}) == ("KKT_NOT_PLUGGED", "NOT_EXISTS")
    assert health.statuses_of({"kktStatus": 7, "registrationRequestStatus": ["x"]}) == ("7", "['x']")
    assert health.health_of({"kktStatus": 7})["findings"][0]["known"] is False


def test_activation_and_health_of_a_point_agree_and_public_points_carry_health():
    point = {"id": "p1", "name": "Shop", "posLinkToken": "73914025", "kktStatus": "FN_NOT_PLUGGED",
             "registrationRequestStatus": "NOT_EXISTS", "kkmInfo": {"serialNumber": "SN-1"}}
    public = public_point(point)
    assert "73914025" not in repr(public)
    assert public["activation"]["kkt_status"] == public["health"]["kkt_status"] == "FN_NOT_PLUGGED"
    assert (public["health"]["severity"], public["health"]["trouble"]) == ("critical", True)
    assert activation_of({})["kkt_status"] == health.health_of({})["kkt_status"] == "KKT_NOT_PLUGGED"
    assert health.register_serial_of(point) == "SN-1"
    assert health.register_serial_of(dict(point, kktStatus="KKT_NOT_PLUGGED")) is None


def test_a_registers_health_comes_from_the_points_it_holds():
    held = {"id": "a", "name": "A", "kktStatus": "POS_VERSION_OUTDATED", "kkmInfo": {"serialNumber": "SN-1"}}
    elsewhere = {"id": "b", "name": "B", "kktStatus": "FN_NOT_PLUGGED", "kkmInfo": {"serialNumber": "SN-2"}}
    unbound = {"id": "c", "name": "C", "registrationRequestStatus": "ERROR"}
    result = health.register_health("SN-1", [elsewhere, unbound, held, "junk", {"name": "no id"}])
    assert [(p["id"], p["register_serial"], p["severity"]) for p in result["points"]] == [
        ("a", "SN-1", "warning"), ("b", "SN-2", "critical"), ("c", None, "critical")]
    # only what it holds is the register's own trouble; the declared point B is another register's
    assert (result["severity"], result["trouble"]) == ("warning", True)
    assert health.register_health("SN-9", [elsewhere])["severity"] == "ok"


def _record(point_id, kkt, registration, serial=None):
    return {"id": point_id, "name": "Shop %s" % point_id, "register_serial": serial, "kkt_status": kkt,
            "registration_status": registration}


def test_summarize_counts_every_point_and_lists_those_with_findings_worst_first():
    records = dict((r["id"], r) for r in [
        _record("1", "REGISTERED", "REGISTERED", "SN-1"),
        _record("2", "FN_NOT_PLUGGED", "NOT_EXISTS", "SN-2"),
        _record("3", "NOT_REGISTERED", "OFD_WAIT_IRUD", "SN-3"),
        _record("4", "KKT_NOT_PLUGGED", "NOT_EXISTS"),
        _record("5", "POS_VERSION_OUTDATED", "ERROR", "SN-2"),
        _record("6", "KKT_NOT_PLUGGED", "ERROR"),  # a refused registration of a point no register holds
    ])
    summary = health.summarize(records, {"SN-2": "reg02"})
    assert (summary["severity"], summary["trouble"]) == ("critical", True)
    assert summary["summary"] == {"points": 6, "points_in_trouble": 3, "registers_in_trouble": 1,
                                  "points_informational": 1}
    assert summary["counts"]["kkt_status"] == {"FN_NOT_PLUGGED": 1, "KKT_NOT_PLUGGED": 2, "NOT_REGISTERED": 1,
                                               "POS_VERSION_OUTDATED": 1, "REGISTERED": 1}
    assert summary["counts"]["registration_status"] == {"ERROR": 2, "NOT_EXISTS": 2, "OFD_WAIT_IRUD": 1,
                                                        "REGISTERED": 1}
    assert summary["counts"]["severity"] == {"ok": 2, "info": 1, "warning": 0, "critical": 3}
    assert [(p["id"], p["severity"], p["register_host"]) for p in summary["points"]] == [
        ("2", "critical", "reg02"), ("5", "critical", "reg02"), ("6", "critical", None), ("3", "info", None)]
    assert summary["registers"] == [{"serial": "SN-2", "host": "reg02", "severity": "critical",
                                     "retail_points": ["Shop 2", "Shop 5"],
                                     "states": ["FN_NOT_PLUGGED", "ERROR", "POS_VERSION_OUTDATED"]}]


def test_no_point_read_is_no_trouble():
    summary = health.summarize({})
    assert (summary["severity"], summary["trouble"], summary["points"], summary["registers"]) == ("ok", False, [], [])
    assert summary["summary"]["points"] == 0


@pytest.mark.parametrize("severity, threshold, expected", [
    ("critical", "warning", True), ("warning", "warning", True), ("info", "warning", False), ("ok", "warning", False),
    ("warning", "critical", False), ("critical", "critical", True), ("unknown", "warning", False),
])
def test_at_least(severity, threshold, expected):
    assert health.at_least(severity, threshold) is expected


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def test_the_docs_table_lists_every_row_with_its_severity_and_group():
    with open(os.path.join(ROOT, "docs", "gitops.md"), encoding="utf-8") as handle:
        section = handle.read().split("### Register health", 1)[1]
    documented = {}
    for match in re.finditer(r"^\| (kktStatus|registrationRequestStatus) \| `(\w+)` \| ([^|]+) \| (\w+) \| [^|]+ \| "
                             r"(`[a-z0-9_]+`|-) \|$", section, re.M):
        documented[match.group(1), match.group(2)] = (match.group(3).strip(), match.group(4),
                                                      match.group(5).strip("`"))
    expected = dict(((row["api_field"], row["state"]), (row["label"], row["severity"],
                                                        row["group"] if row["severity"] != "ok" else "-"))
                    for row in health.table_rows())
    assert documented == expected


def test_the_emulator_knows_the_same_states():
    path = os.path.join(ROOT, "sandbox", "cabinet", "validation.py")
    if not os.path.exists(path):
        pytest.skip("the sandbox is not shipped: this runs in a clone of the repository")
    spec = importlib.util.spec_from_file_location("emulator_validation", path)
    validation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(validation)
    assert sorted(validation.KKT_STATUSES) == sorted(row["state"] for row in health.KKT_STATES)
    assert sorted(validation.REGISTRATION_STATUSES) == sorted(row["state"] for row in health.REGISTRATION_STATES)
