# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin's pure helpers: group names, collisions, what is kept of a point (never the code)."""

from __future__ import annotations

import re

from ansible_collections.modulkassa.pos.plugins.inventory.cabinet import (
    group_name,
    point_groups,
    point_record,
    register_health,
    state_of,
)

VALID_GROUP = re.compile(r"^[^\W\d]\w*$")


def test_group_names_are_valid_identifiers_and_keep_or_transliterate_cyrillic():
    assert group_name("point_", "Ромашка Москва, Тверская 1 (кафе)") == "point_ромашка_москва_тверская_1_кафе"
    assert group_name("point_", "Ромашка Москва, Тверская 1", ascii_only=True) == "point_romashka_moskva_tverskaya_1"
    assert group_name("point_", "Щёлково-Ёлки №3", ascii_only=True) == "point_shchelkovo_elki_3"
    for name in ("  ", "!!!", "9 shop", "Shop\t\n1"):
        assert VALID_GROUP.match(group_name("point_", name)), name


def test_points_that_would_share_a_group_get_their_id_appended():
    records = [{"id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "Shop 1"},
               {"id": "bbbbbbbb-0000-4000-8000-000000000002", "name": "Shop-1"},
               {"id": "cccccccc-0000-4000-8000-000000000003", "name": "Shop 2"}]
    groups = point_groups(records, "point_")
    assert groups == {records[0]["id"]: "point_shop_1_aaaaaaaa", records[1]["id"]: "point_shop_1_bbbbbbbb",
                      records[2]["id"]: "point_shop_2"}


def test_a_point_record_keeps_attributes_and_activation_but_never_the_code():
    point = {"id": "p1", "name": "Shop", "phone": "+7 912 345-67-89", "posLinkToken": "73914025",
             "settings": {"defaultTaxMode": "COMMON", "egaisSettings": {"kpp": "773601001"}},
             "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None}
    record = point_record(point)
    assert "73914025" not in repr(record)
    assert (record["phone"], record["tax_mode"], record["kpp"]) == ("9123456789", "COMMON", "773601001")
    assert state_of(record) == "pending" and record["register"] is None
    active = point_record(dict(point, posLinkToken=None, kktStatus="REGISTERED",
                               kkmInfo={"serialNumber": "SN-1", "model": "M", "appVersion": "1.0", "activatedAt": "t"}))
    assert state_of(active) == "active"
    assert active["register"] == {"serial": "SN-1", "model": "M", "app_version": "1.0", "activated_at": "t"}
    assert state_of(point_record(dict(point, posLinkToken=None))) == "inactive"


def _held(name, kkt, registration):
    return point_record({"id": "id-" + name, "name": name, "kktStatus": kkt, "registrationRequestStatus": registration,
                         "kkmInfo": {"serialNumber": "SN-1"}})


def test_a_register_is_in_the_health_groups_of_its_points_states():
    health, groups = register_health([_held("A", "FN_NOT_PLUGGED", "NOT_EXISTS"), _held("B", "REGISTERED", "ERROR")])
    assert groups == ["health_fn_not_plugged", "health_registration_error", "health_trouble"]
    assert (health["severity"], health["trouble"]) == ("critical", True)
    assert [(f["retail_point"], f["state"]) for f in health["findings"]] == [("A", "FN_NOT_PLUGGED"), ("B", "ERROR")]
    assert "insert or replace the ФН" in health["findings"][0]["action"]
    for group in groups:
        assert VALID_GROUP.match(group), group


def test_a_registration_under_way_is_a_group_but_not_trouble_and_an_unknown_state_is_both():
    health, groups = register_health([_held("A", "NOT_REGISTERED", "OFD_WAIT_RNM")])
    assert (groups, health["severity"], health["trouble"]) == (["health_registration_ofd_wait_rnm"], "info", False)
    health, groups = register_health([_held("A", "SOMETHING_NEW", "NOT_EXISTS")])
    assert (groups, health["severity"]) == (["health_trouble", "health_unknown"], "warning")
    assert register_health([_held("A", "REGISTERED", "REGISTERED")]) == (
        {"severity": "ok", "trouble": False, "findings": []}, [])


def test_a_record_cached_without_a_registration_status_reads_as_no_request():
    record = _held("A", "REGISTERED", None)
    assert record["registration_status"] == "NOT_EXISTS"
    record["registration_status"] = None  # as an older version cached it
    assert register_health([record])[1] == []
