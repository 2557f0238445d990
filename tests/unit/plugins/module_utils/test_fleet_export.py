# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure mapping of a cabinet account to fleet data (module_utils/_fleet_export.py), on hand-made cabinet JSON.

The point lists here hold what the emulator refuses to store (a VAT number the table does not name, a legacy phone,
a KPP beside a 12-digit INN), which a real cabinet may still hold; the integration tests cover the rest.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_export import (
    ExportSelectionError,
    export_fleet,
    register_host_name,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import canonical_desired, point_id_for
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import normalize_specs, plan_points
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import validate_fleet

LOGIN = "Ops@Chain.example"


def _point(name, point_id=None, serial=None, **fields):
    point = {"id": point_id or str(uuid.uuid4()), "name": name, "address": None, "phone": None, "inn": None,
             "settings": {}, "posLinkToken": None, "kktStatus": "KKT_NOT_PLUGGED",
             "registrationRequestStatus": "NOT_EXISTS", "kkmInfo": None}
    point.update(fields)
    if serial:
        point.update(kktStatus="REGISTERED", kkmInfo={"serialNumber": serial, "model": "MSPOS-K", "appVersion": "1.0.0",
                                                      "activatedAt": "2026-01-01T00:00:00Z"})
    return point


def _entries(fleet):
    return [dict(item["entry"]) for item in fleet["points"]]


def _by_name(fleet):
    return dict((item["name"], item) for item in fleet["points"])


def test_a_full_point_is_written_with_names_and_quoted_kinds_and_plans_no_change():
    point = _point("Магазин 1", address="г. Москва, ул. Тверская, д. 7", phone="4951200707", inn="7707083893",
                   settings={"defaultTaxMode": "COMMON", "defaultVatTag": 1113, "fiscalServiceEnabled": True,
                             "egaisSettings": {"kpp": "773601001"}})
    fleet = export_fleet([point], LOGIN)
    assert _entries(fleet) == [{"name": "Магазин 1", "id": point["id"], "address": "г. Москва, ул. Тверская, д. 7",
                                "phone": "4951200707", "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON",
                                "vat": "VAT_22", "fiscal_service_enabled": True}]
    keys = [key for key, dummy in fleet["points"][0]["entry"]]
    assert keys == ["name", "id", "address", "phone", "inn", "kpp", "tax_mode", "vat", "fiscal_service_enabled"]
    # What the planner makes of the exported entry: the same point, nothing to change.
    changes = plan_points(normalize_specs(_entries(fleet)), [point], LOGIN)
    assert [(c.action, c.id) for c in changes] == [("unchanged", point["id"])]


def test_the_id_is_left_out_only_where_the_collection_would_derive_it():
    derived = _point("Derived", point_id=point_id_for(LOGIN, "Derived"))
    foreign = _point("Foreign")
    fleet = export_fleet([derived, foreign], LOGIN.upper())  # the login's case does not change the derived id
    assert _entries(fleet) == [{"name": "Derived"}, {"name": "Foreign", "id": foreign["id"]}]
    assert fleet["summary"]["ids_kept"] == 1


def test_a_rename_of_an_exported_point_is_an_update_of_the_same_id():
    point = _point("Old name", inn="7707083893")
    entry = _entries(export_fleet([point], LOGIN))[0]
    entry["name"] = "New name"
    changes = plan_points(normalize_specs([entry]), [point], LOGIN)
    assert [(c.action, c.id, c.fields) for c in changes] == [("update", point["id"], ["name"])]


def test_attributes_the_cabinet_leaves_empty_are_not_declared():
    bare = _point("Bare", point_id=point_id_for(LOGIN, "Bare"), phone="", inn=None, address="",
                  settings={"egaisSettings": {"kpp": ""}})
    assert _entries(export_fleet([bare], LOGIN)) == [{"name": "Bare"}]
    off = _point("Off", point_id=point_id_for(LOGIN, "Off"), settings={"fiscalServiceEnabled": False})
    assert _entries(export_fleet([off], LOGIN)) == [{"name": "Off", "fiscal_service_enabled": False}]


def test_envd_and_an_unnamed_vat_number_are_notes_not_declarations():
    point = _point("Old", point_id=point_id_for(LOGIN, "Old"), settings={"defaultTaxMode": "ENVD", "defaultVatTag": 1101})
    fleet = export_fleet([point], LOGIN)
    assert _entries(fleet) == [{"name": "Old"}]
    notes = fleet["points"][0]["notes"]
    assert any(n.startswith("tax_mode ENVD in the cabinet is not declared: ЕНВД (ENVD) was abolished") for n in notes)
    assert any(n.startswith("vat_tag 1101 in the cabinet is a number the tax table does not name") for n in notes)
    assert fleet["summary"]["points_with_values_not_declared"] == 1


@pytest.mark.parametrize("fields,dropped", [
    ({"phone": "12345"}, "phone"),                                        # a legacy phone the model refuses
    ({"inn": "7707083890"}, "inn"),                                       # a bad checksum
    ({"inn": "500100732259", "settings": {"egaisSettings": {"kpp": "773601001"}}}, "kpp"),  # KPP beside a 12-digit INN
    ({"settings": {"defaultTaxMode": "BARTER"}}, "tax_mode"),             # a mode the table does not know
    ({"address": "line\nbreak"}, "address"),                              # control characters
])
def test_a_value_the_point_model_refuses_is_left_undeclared_and_named(fields, dropped):
    point = _point("Legacy", **fields)
    fleet = export_fleet([point], LOGIN)
    entry = _entries(fleet)[0]
    assert dropped not in entry
    canonical_desired(entry)  # the entry is one the modules and the validator accept
    assert any(n.startswith(dropped + " ") and "the fleet data refuses it" in n for n in fleet["points"][0]["notes"])


def test_a_name_the_model_refuses_leaves_an_id_only_declaration_that_registers_name_by_id():
    point = _point("bad\x1bname", serial="SN-1")
    fleet = export_fleet([point], LOGIN)
    assert _entries(fleet) == [{"id": point["id"]}]
    assert fleet["registers"][0]["points"] == [point["id"]]


def test_points_sharing_a_name_keep_their_ids_and_registers_name_them_by_id():
    derived = _point("Twin", point_id=point_id_for(LOGIN, "Twin"), serial="SN-1")
    other = _point("Twin", serial="SN-1")
    fleet = export_fleet([derived, other], LOGIN)
    assert sorted(e["id"] for e in _entries(fleet)) == sorted([derived["id"], other["id"]])
    assert sorted(fleet["registers"][0]["points"]) == sorted([derived["id"], other["id"]])
    assert all(item["name_shared"] for item in fleet["points"])


def test_names_equal_after_folding_keep_one_name_the_others_are_declared_by_id_and_the_data_validates():
    # A hand-made account may hold names that differ only in case or spaces; the fleet data refuses such names
    # (people and registers tell points apart by name), so the export must not write two of them.
    first = _point("Магазин 1", serial="SN-1")
    second = _point("магазин  1", serial="SN-1")
    third = _point("МАГАЗИН 1")
    fleet = export_fleet([third, second, first], LOGIN)
    entries = _entries(fleet)
    named = [e for e in entries if "name" in e]
    assert named == [{"name": "МАГАЗИН 1", "id": third["id"]}]  # the first name in code point order keeps it
    assert sorted(e["id"] for e in entries if "name" not in e) == sorted([first["id"], second["id"]])
    notes = dict((item["id"], " ".join(item["notes"])) for item in fleet["points"])
    assert '"Магазин 1"' in notes[first["id"]] and "declared by its id" in notes[first["id"]]
    assert sorted(fleet["registers"][0]["points"]) == sorted([first["id"], second["id"]])
    errors, dummy = validate_fleet({"modulkassa_points": entries})
    assert [str(e) for e in errors] == []
    # The planner finds each by its id: nothing to change, no name rewritten.
    changes = plan_points(normalize_specs(entries), [first, second, third], LOGIN)
    assert sorted(c.action for c in changes) == ["unchanged"] * 3


def test_status_notes_say_who_holds_the_point_and_never_the_code():
    held = _point("Held", serial="SN-9", registrationRequestStatus="OFD_WAIT_RNM")
    free = _point("Free", posLinkToken="SECRET-CODE-123456")
    ghost = _point("Ghost", kktStatus="FN_NOT_PLUGGED")  # active, but no kkmInfo
    fleet = export_fleet([held, free, ghost], LOGIN)
    notes = dict((name, item["notes"][0]) for name, item in _by_name(fleet).items())
    assert notes == {
        "Held": 'cabinet: held by register "SN-9" (kktStatus REGISTERED); registrationRequestStatus OFD_WAIT_RNM',
        "Free": "cabinet: no register holds it (kktStatus KKT_NOT_PLUGGED); an activation code is pending (the code "
                "is not exported)",
        "Ghost": "cabinet: active (kktStatus FN_NOT_PLUGGED), but the cabinet names no register serial",
    }
    assert fleet["summary"]["points_without_register"] == ["Free", "Ghost"]
    assert "SECRET-CODE-123456" not in json.dumps(fleet, ensure_ascii=False)


def test_unmanaged_keys_are_named_without_their_values_and_full_address_is_shown():
    point = _point("Rich", settings={"defaultTaxMode": "COMMON", "checkSettings": {"footerText": ["x"]},
                                     "hardwareSettings": {"printerSettings": {"accessCode": "DEVICE-SECRET-1"}},
                                     "egaisSettings": {"kpp": "773601001", "utmHost": "utm.local"}},
                   inn="7707083893", payments={"payme": {"token": "PAY-SECRET-2"}}, timeZoneId="Europe/Moscow",
                   fullAddress={"custom": False, "city": "Москва", "street": "Тверская", "house": "7"})
    fleet = export_fleet([point], LOGIN)
    notes = fleet["points"][0]["notes"]
    assert 'fullAddress in the cabinet (not managed here): {"city": "Москва", "custom": false, "house": "7", ' \
           '"street": "Тверская"}' in notes
    assert "the cabinet also holds (not managed here, left as they are): payments, timeZoneId, settings.checkSettings, " \
           "settings.egaisSettings.utmHost, settings.hardwareSettings" in notes
    text = json.dumps(fleet, ensure_ascii=False)
    assert "DEVICE-SECRET-1" not in text and "PAY-SECRET-2" not in text and "utm.local" not in text


def test_filters_by_inn_and_by_shell_style_name_pattern():
    points = [_point("Василёк Москва 1", inn="7707083893"), _point("Василёк Москва 2", inn="500100732259"),
              _point("Василёк Казань [1]", inn="7707083893"), _point("василёк москва 3", inn="7707083893")]

    def names(fleet):
        return [item["name"] for item in fleet["points"]]

    assert names(export_fleet(points, LOGIN, inns=["7707083893"])) == [
        "Василёк Казань [1]", "Василёк Москва 1", "василёк москва 3"]
    # Names compared as point names are (point_name_key): the lower-case point is one of them.
    assert names(export_fleet(points, LOGIN, name_patterns=["Василёк Москва *"])) == [
        "Василёк Москва 1", "Василёк Москва 2", "василёк москва 3"]
    assert names(export_fleet(points, LOGIN, name_patterns=["ВАСИЛЁК  москва 2"])) == ["Василёк Москва 2"]
    assert names(export_fleet(points, LOGIN, name_patterns=["Василёк Казань [1]"])) == ["Василёк Казань [1]"]
    assert names(export_fleet(points, LOGIN, name_patterns=["*[[]1]"])) == ["Василёк Казань [1]"]
    assert names(export_fleet(points, LOGIN, name_patterns=["Москва"])) == []  # the whole name, not a part of it
    both = export_fleet(points, LOGIN, inns=["500100732259"], name_patterns=["Василёк *", "x"])
    assert names(both) == ["Василёк Москва 2"] and both["summary"]["account_points"] == 4


@pytest.mark.parametrize("inn", ["123", "7707083890", "77070838930", " "])
def test_a_bad_inn_filter_is_refused(inn):
    with pytest.raises(ExportSelectionError) as caught:
        export_fleet([], LOGIN, inns=["7707083893", inn])
    assert caught.value.path == "inn[1]"


def test_a_register_holding_points_outside_a_partial_export_says_so():
    inside = _point("Inside", inn="7707083893", serial="SN-1")
    outside = _point("Outside", inn="500100732259", serial="SN-1")
    alone = _point("Alone", inn="500100732259", serial="SN-2")
    fleet = export_fleet([inside, outside, alone], LOGIN, inns=["7707083893"])
    assert [(r["host"], r["points"]) for r in fleet["registers"]] == [("SN-1", ["Inside"])]
    assert any('it also holds "Outside" (id %s), outside this export' % outside["id"] in n
               for n in fleet["registers"][0]["notes"])
    assert fleet["summary"]["registers_outside"] == 1 and fleet["summary"]["registers_holding_points_outside"] == 1


def test_register_names_are_safe_stable_and_distinct():
    assert register_host_name("SN-REG01") == "SN-REG01"
    assert register_host_name("0001234.5_6") == "0001234.5_6"
    weird = register_host_name("ЗН 0001/2026 #7")
    assert weird.startswith("0001-2026-7-") and len(weird) == len("0001-2026-7-") + 8
    assert register_host_name("ЗН 0001/2026 #7") == weird
    assert register_host_name("ЗН 0001/2026 #8") != weird
    assert register_host_name("a b") != register_host_name("a/b")
    assert register_host_name("ККТ").startswith("register-")
    assert register_host_name("trailing-") != "trailing-"
    for serial in ("SN 1", "SN:1", "[1:3]", "-x", "x" * 100):
        name = register_host_name(serial)
        assert name[0].isalnum() and all(c.isalnum() or c in "._-" for c in name) and len(name) <= 63


def test_a_serial_equal_to_another_ones_safe_form_gets_a_digest_too():
    weird = "SN 1"
    clash = register_host_name(weird)  # "SN-1-<digest>": make a real serial with exactly that text
    fleet = export_fleet([_point("A", serial=weird), _point("B", serial=clash)], LOGIN)
    hosts = [r["host"] for r in fleet["registers"]]
    assert len(set(hosts)) == 2


def test_the_result_does_not_depend_on_the_cabinet_s_order():
    points = [_point("P%03d" % i, inn="7707083893", serial="SN-%d" % (i % 7) if i % 3 else None) for i in range(60)]
    points += [_point("P010"), _point("P010")]  # names shared: ordered by id
    first = export_fleet(points, LOGIN)
    shuffled = list(points)
    random.Random(7).shuffle(shuffled)
    assert export_fleet(shuffled, LOGIN) == first
    assert [r["serial"] for r in first["registers"]] == sorted(r["serial"] for r in first["registers"])
    names = [(item["name"], item["id"]) for item in first["points"]]
    assert names == sorted(names)
