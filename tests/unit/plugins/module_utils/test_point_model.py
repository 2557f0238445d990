# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import inn_is_valid, normalize_phone
from ansible_collections.modulkassa.pos.plugins.module_utils import _point_model as model

VALID_INN10 = "7707083893"
VALID_INN12 = "500100732259"


@pytest.mark.parametrize("inn,valid", [
    (VALID_INN10, True),
    (VALID_INN12, True),
    ("7707083894", False),  # last check digit off by one
    ("500100732258", False),
    ("770708389", False),
    ("77070838931", False),
    ("77070838a3", False),
    ("٧٧٠٧٠٨٣٨٩٣", False),  # Arabic-Indic digits pass str.isdigit but are not an INN
    ("", False),
])
def test_inn_checksum(inn, valid):
    assert inn_is_valid(inn) is valid


@pytest.mark.parametrize("raw", ["+7 (912) 345-67-89", "8 912 345 67 89", "79123456789", "9123456789", "+7912.345.67.89"])
def test_phone_forms_normalise_to_ten_digits(raw):
    assert normalize_phone(raw) == "9123456789"


@pytest.mark.parametrize("raw", ["12345", "+1 912 345 67 89", "9123456789012", "91234567ab"])
def test_bad_phone_is_rejected_with_the_field_path(raw):
    with pytest.raises(model.PointInputError) as err:
        model.canonical_desired({"name": "A", "phone": raw}, "points[2].")
    assert err.value.path == "points[2].phone"


@pytest.mark.parametrize("spec,path", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": "bad\nname"}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"name": "A", "inn": "1234567890"}, "inn"),
    ({"name": "A", "kpp": "12345"}, "kpp"),
    ({"name": "A", "inn": VALID_INN12, "kpp": "773601001"}, "kpp"),
    ({"name": "A", "tax_mode": "FLAT"}, "tax_mode"),
    ({"name": "A", "vat_tag": 20}, "vat_tag"),
    ({"name": "A", "vat_tag": True}, "vat_tag"),
    ({"name": "A", "fiscal_service_enabled": "yes"}, "fiscal_service_enabled"),
    ({"name": "A", "inn": 7707083893}, "inn"),
    ({"name": "A", "address": "a" * 1001}, "address"),
])
def test_bad_values_name_their_field(spec, path):
    with pytest.raises(model.PointInputError) as err:
        model.canonical_desired(spec)
    assert err.value.path == path
    assert path in str(err.value)


def test_desired_is_normalised_and_only_has_fields_the_user_set():
    desired = model.canonical_desired({"name": "  Shop 1 ", "phone": "8 (912) 345-67-89", "kpp": "7736ab001",
                                       "tax_mode": "patent", "address": None})
    assert desired == {"name": "Shop 1", "phone": "9123456789", "kpp": "7736AB001", "tax_mode": "PATENT"}


def test_unicode_names_are_fine():
    assert model.canonical_desired({"name": "Магазин «Ромашка» №1"})["name"] == "Магазин «Ромашка» №1"


def test_actual_is_canonical_whatever_the_cabinet_sends():
    actual = model.canonical_actual({
        "id": "x", "name": "Shop 1", "phone": "+79123456789", "inn": VALID_INN10, "address": None,
        "settings": {"defaultVatTag": "1105", "defaultTaxMode": "common", "egaisSettings": {"kpp": "773601001"}},
    })
    assert actual == {"name": "Shop 1", "address": "", "phone": "9123456789", "inn": VALID_INN10, "kpp": "773601001",
                      "tax_mode": "COMMON", "vat_tag": 1105, "fiscal_service_enabled": False}


def test_same_values_written_differently_are_not_a_change():
    desired = model.canonical_desired({"name": "Shop 1", "phone": "+7 912 345-67-89", "vat_tag": 1105,
                                       "tax_mode": "COMMON", "fiscal_service_enabled": False, "address": ""})
    actual = model.canonical_actual({"name": "Shop 1", "phone": "9123456789", "address": None,
                                     "settings": {"defaultVatTag": 1105, "defaultTaxMode": "COMMON"}})
    assert model.changed_fields(desired, actual) == []


def test_each_field_change_is_detected():
    actual = model.canonical_actual({"name": "A", "phone": "9123456789", "inn": VALID_INN10, "address": "x",
                                     "settings": {"defaultVatTag": 1105, "defaultTaxMode": "COMMON",
                                                  "fiscalServiceEnabled": False, "egaisSettings": {"kpp": "773601001"}}})
    changes = {"name": "B", "address": "y", "phone": "9123456780", "inn": "7736050003", "kpp": "773601002",
               "tax_mode": "PATENT", "vat_tag": 1102, "fiscal_service_enabled": True}
    for field, value in changes.items():
        assert model.changed_fields(model.canonical_desired({"name": "A", field: value}), actual) == [field]


def test_api_body_nests_settings():
    assert model.api_body({"name": "A", "kpp": "773601001", "vat_tag": 1102}) == {
        "name": "A", "settings": {"egaisSettings": {"kpp": "773601001"}, "defaultVatTag": 1102}}


@pytest.mark.parametrize("a,b,same", [
    ("Shop 1", "shop 1", True),
    ("Shop 1", "  SHOP   1 ", True),
    ("Shop 1", "Shop\t1", True),
    ("Shop 1", "Shop\u00a01", True),             # a no-break space
    ("Shop 1", "Ｓｈｏｐ １", True),               # full-width forms
    ("Straße 3", "STRASSE 3", True),             # full case folding
    ("Магазин «Центр»", "МАГАЗИН «ЦЕНТР»", True),
    ("Cafe\u0301", "Caf\u00e9", True),            # decomposed and composed é
    ("Shop 1", "Shop1", False),                  # a space is not nothing
    ("Василёк", "Василек", False),               # letters stay letters
    ("Shop 1", "Shop 2", False),
])
def test_point_name_key_is_the_one_rule_for_name_identity(a, b, same):
    assert (model.point_name_key(a) == model.point_name_key(b)) is same


def test_point_id_is_deterministic_per_account_and_name():
    assert model.point_id_for("Ops@Example.com", "Shop 1") == model.point_id_for("ops@example.com ", "Shop 1")
    assert model.point_id_for("ops@example.com", "Shop 1") != model.point_id_for("ops@example.com", "Shop 2")
    assert model.point_id_for("ops@example.com", "Shop 1") != model.point_id_for("other@example.com", "Shop 1")


def test_activation_and_public_point_hide_the_code():
    point = {"id": "x", "kktStatus": "REGISTERED", "kkmInfo": {"serialNumber": "SN-1"}, "posLinkToken": "12345678"}
    assert model.activation_of(point) == {"active": True, "kkt_status": "REGISTERED", "register_serial": "SN-1", "code_pending": True}
    public = model.public_point(point)
    assert "posLinkToken" not in public and "12345678" not in repr(public)
    assert model.activation_of({"id": "y"})["active"] is False


# ---- tax data: a rate by name or by the cabinet's number; the abolished ENVD -----------------------------------

@pytest.mark.parametrize("cabinet_value", [1113, "1113"])
def test_a_rate_by_name_equals_the_cabinet_number_for_it(cabinet_value):
    desired = model.canonical_desired({"name": "A", "vat": "VAT_22"})
    assert desired == {"name": "A", "vat_tag": 1113}
    assert desired == model.canonical_desired({"name": "A", "vat_tag": 1113})
    actual = model.canonical_actual({"name": "A", "settings": {"defaultVatTag": cabinet_value}})
    assert model.changed_fields(desired, actual) == []
    assert model.changed_fields(model.canonical_desired({"name": "A", "vat": "VAT_20"}), actual) == ["vat_tag"]


def test_the_old_numbers_still_work_and_the_new_ones_are_accepted():
    for tag in (1102, 1105, 1109, 1114):
        assert model.canonical_desired({"vat_tag": tag}) == {"vat_tag": tag}


@pytest.mark.parametrize("spec,message", [
    ({"vat": "VAT_18"}, "must be one of VAT_22, VAT_22_122"),
    ({"vat": 22}, "must be a string"),
    ({"vat": "VAT_22", "vat_tag": 1113}, "and vat_tag set the same attribute"),
    ({"vat_tag": 1108}, "must be one of 1102"),
])
def test_bad_vat_names_the_field(spec, message):
    with pytest.raises(model.PointInputError) as err:
        model.canonical_desired(dict(spec, name="A"), "points[1].")
    assert err.value.path == "points[1].%s" % next(iter(spec))
    assert message in str(err.value)


def test_envd_is_refused_for_a_new_point_or_a_change_of_mode():
    with pytest.raises(model.PointInputError) as err:
        model.tax_mode_notices({"tax_mode": "ENVD"}, None, "points[0].")
    assert err.value.path == "points[0].tax_mode"
    assert "abolished on 1 January 2021" in str(err.value) and "a new point cannot use it" in str(err.value)
    with pytest.raises(model.PointInputError) as err:
        model.tax_mode_notices({"tax_mode": "ENVD"}, {"tax_mode": "COMMON"})
    assert "a point changing its tax mode cannot use it" in str(err.value)


@pytest.mark.parametrize("declared", [{}, {"tax_mode": "ENVD"}, {"name": "A"}])
def test_a_point_the_cabinet_holds_in_envd_is_reported_not_refused(declared):
    notices = model.tax_mode_notices(declared, {"tax_mode": "ENVD"})
    assert len(notices) == 1 and "ENVD" in notices[0] and "abolished on 1 January 2021" in notices[0]


def test_moving_a_point_off_envd_needs_no_notice():
    assert model.tax_mode_notices({"tax_mode": "SIMPLIFIED"}, {"tax_mode": "ENVD"}) == []
    assert model.tax_mode_notices({"tax_mode": "COMMON"}, None) == []


@pytest.mark.parametrize("name, pattern, matches", [
    ("Василёк Москва 1", "Василёк Москва *", True),
    ("василёк  МОСКВА 1", "Василёк Москва *", True),   # folded as names are (point_name_key), on both sides
    ("Василёк Москва 1", "ВАСИЛЁК москва ?", True),
    ("Василек Москва 1", "Василёк *", False),          # ё stays a letter of its own, as in point names
    ("Магазин Москва 1", "Москва*", False),            # the whole name
    ("Shop [1]", "Shop [1]", True),                    # equal after folding: matches whatever [ means
    ("Shop 1", "Shop [1]", True),                      # and the pattern's own reading
    ("Shop [1]", "*[[]1]", True),
    ("STRASSE 5", "straße *", True),                   # full case folding
    ("Shop 1", "shop 1 ", True),                       # the pattern is trimmed like a name
    ("Shop 1", "Shop 2", False),
])
def test_name_matches_is_a_whole_name_glob_over_folded_names(name, pattern, matches):
    assert model.name_matches(name, pattern) is matches


@pytest.mark.parametrize("status, blocked", [
    (None, False), ("", False), ("NOT_EXISTS", False), ("DRAFT", False), ("ERROR", False), ("REGISTERED", False),
    ("STARTED", True), ("OFD_WAIT_FOR_FINAL_RESPONSE", True), ("SOMETHING_NEW", True),
])
def test_the_cabinet_deletes_a_point_only_in_four_registration_states(status, blocked):
    assert model.registration_blocks_delete({"id": "x", "name": "x", "registrationRequestStatus": status}) is blocked
