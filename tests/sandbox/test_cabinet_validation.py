"""Every validation code, on create and on the merged result of a partial update."""

from __future__ import annotations

import pytest

from cabinet_helpers import INN10, INN12, KPP, assert_error, create_point, point_body

BAD_POINTS = [
    ({"name": None}, "name", "name-required"),
    ({"name": ""}, "name", "name-required"),
    ({"name": "   "}, "name", "name-required"),
    ({"name": 42}, "name", "name-required"),
    ({"name": "x" * 256}, "name", "name-too-long"),
    ({"inn": "123"}, "inn", "inn-format"),
    ({"inn": "77070838931"}, "inn", "inn-format"),           # 11 digits
    ({"inn": "77070838AB"}, "inn", "inn-format"),
    ({"inn": 7707083893}, "inn", "inn-format"),             # a number, not a string
    ({"inn": "7707083894"}, "inn", "inn-checksum"),
    ({"inn": "500100732258"}, "inn", "inn-checksum"),
    ({"inn": "500100732269"}, "inn", "inn-checksum"),       # first check digit wrong
    ({"settings": {"egaisSettings": {"kpp": "77360100"}}}, "settings.egaisSettings.kpp", "kpp-format"),
    ({"settings": {"egaisSettings": {"kpp": "7736ab001"}}}, "settings.egaisSettings.kpp", "kpp-format"),
    ({"settings": {"egaisSettings": {"kpp": "77360100A"}}}, "settings.egaisSettings.kpp", "kpp-format"),
    ({"inn": INN12}, "settings.egaisSettings.kpp", "kpp-not-allowed"),   # body still has a KPP
    # A 10-digit INN is a legal entity: the cabinet's form requires its KPP.
    ({"settings": {"egaisSettings": {}}}, "settings.egaisSettings.kpp", "kpp-required"),
    ({"settings": {"egaisSettings": {"kpp": ""}}}, "settings.egaisSettings.kpp", "kpp-required"),
    ({"settings": {"egaisSettings": {"kpp": None}}}, "settings.egaisSettings.kpp", "kpp-required"),
    ({"settings": {}}, "settings.egaisSettings.kpp", "kpp-required"),
    ({"settings": ["COMMON"]}, "settings", "settings-format"),
    ({"settings": {"egaisSettings": "773601001"}}, "settings.egaisSettings", "settings-format"),
    ({"phone": "+79123456789"}, "phone", "phone-format"),
    ({"phone": "912345678"}, "phone", "phone-format"),
    ({"phone": 9123456789}, "phone", "phone-format"),
    ({"settings": {"defaultTaxMode": "USN"}}, "settings.defaultTaxMode", "tax-mode-invalid"),
    ({"settings": {"defaultTaxMode": ["COMMON"]}}, "settings.defaultTaxMode", "tax-mode-invalid"),
    ({"settings": {"defaultVatTag": 1101}}, "settings.defaultVatTag", "vat-tag-invalid"),
    ({"settings": {"defaultVatTag": "1105"}}, "settings.defaultVatTag", "vat-tag-invalid"),
    ({"settings": {"defaultVatTag": True}}, "settings.defaultVatTag", "vat-tag-invalid"),
    ({"settings": {"defaultVatTag": 1105.0}}, "settings.defaultVatTag", "vat-tag-invalid"),
    ({"settings": {"defaultVatTag": 1108}}, "settings.defaultVatTag", "vat-tag-invalid"),   # a gap in the vendor's list
    ({"settings": {"defaultVatTag": 1115}}, "settings.defaultVatTag", "vat-tag-invalid"),
    ({"id": "not-a-uuid"}, "id", "id-format"),
    ({"posLinkToken": ""}, "posLinkToken", "pos-link-token-format"),
]


@pytest.mark.parametrize("fields, field, code", BAD_POINTS, ids=[c for _, _, c in BAD_POINTS])
def test_bad_point_is_rejected(demo, fields, field, code):
    body = point_body(**fields)
    if body.get("name") is None:
        body.pop("name")
    assert_error(demo.post("/api/v1/retail-points", json=body), 400, code, field)
    assert demo.get("/api/v1/retail-points").json() == []


def test_all_problems_are_listed(demo):
    body = assert_error(demo.post("/api/v1/retail-points", json={"name": "", "inn": "1", "phone": "2"}),
                        400, "name-required")
    assert [e["code"] for e in body["errors"]] == ["name-required", "inn-format", "phone-format"]


@pytest.mark.parametrize("fields", [
    {"name": "x" * 255},
    {"inn": INN12, "settings": {"egaisSettings": {"kpp": None}}},
    {"inn": INN12, "settings": {"egaisSettings": {"kpp": ""}}},
    {"settings": {"egaisSettings": {"kpp": "7736AB001"}}},   # letters in the reason code
    {"inn": None, "phone": None, "address": None, "settings": {}},
    {"settings": {"defaultTaxMode": "PATENT", "defaultVatTag": 1107, "egaisSettings": {"kpp": "773601001"}}},
    {"inn": INN12, "settings": {}},
    {"settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1113, "egaisSettings": {"kpp": "773601001"}}},
    {"settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1114, "egaisSettings": {"kpp": "773601001"}}},
    {"settings": {"defaultTaxMode": "SIMPLIFIED", "defaultVatTag": 1109, "egaisSettings": {"kpp": "773601001"}}},
    {"settings": {"defaultTaxMode": "SIMPLIFIED_WITH_EXPENSE", "defaultVatTag": 1112, "egaisSettings": {"kpp": "773601001"}}},
    {"settings": {"defaultTaxMode": "ENVD", "defaultVatTag": 1105, "egaisSettings": {"kpp": "773601001"}}},   # old points: the collection refuses new ones
], ids=["name-255", "inn12-null-kpp", "inn12-empty-kpp", "kpp-letters", "optional-null", "enums",
       "inn12-no-settings", "vat-22", "vat-22-122", "usn-vat-5", "usn-vat-7-107", "envd"])
def test_good_point_is_accepted(demo, fields):
    create_point(demo, **fields)


def test_put_validates_the_merged_point(demo):
    point = create_point(demo, inn=INN10, settings={"egaisSettings": {"kpp": KPP}})
    path = "/api/v1/retail-point/%s" % point["id"]
    assert_error(demo.put(path, json={"inn": INN12}), 400, "kpp-not-allowed", "settings.egaisSettings.kpp")
    assert_error(demo.put(path, json={"name": ""}), 400, "name-required", "name")
    assert demo.get(path).json() == point  # nothing half-applied


def test_put_that_sets_the_inn_or_clears_the_kpp_needs_a_kpp(demo):
    """The KPP rule checks the merged point whenever the update sets the INN or the KPP."""
    point = create_point(demo, inn=INN12, settings={"egaisSettings": {"kpp": ""}})
    path = "/api/v1/retail-point/%s" % point["id"]
    assert_error(demo.put(path, json={"inn": INN10}), 400, "kpp-required", "settings.egaisSettings.kpp")
    assert demo.put(path, json={"inn": INN10, "settings": {"egaisSettings": {"kpp": KPP}}}).status_code == 200
    assert_error(demo.put(path, json={"settings": {"egaisSettings": {"kpp": ""}}}), 400, "kpp-required",
                 "settings.egaisSettings.kpp")
    assert demo.get(path).json()["settings"]["egaisSettings"]["kpp"] == KPP


def test_put_of_other_fields_leaves_a_point_without_kpp_alone(demo, cabinet_db):
    """A point stored without a KPP (made before the rule, or by another tool) still takes other updates."""
    point = create_point(demo)
    cabinet_db.strip_kpp(point["id"])
    path = "/api/v1/retail-point/%s" % point["id"]
    updated = demo.put(path, json={"phone": "9000000000", "settings": {"defaultVatTag": 1102}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["phone"] == "9000000000" and not updated.json()["settings"]["egaisSettings"].get("kpp")


@pytest.mark.parametrize("raw, code", [
    (b'{"name": ', "malformed-json"),
    (b"", "malformed-json"),
    (b'{"name": NaN}', "malformed-json"),
    (b"\xff\xfe", "malformed-json"),
    (b'["a"]', "body-not-object"),
])
def test_malformed_bodies(demo, raw, code):
    headers = {"Content-Type": "application/json"}
    assert_error(demo.post("/api/v1/retail-points", content=raw, headers=headers), 400, code)
    point = create_point(demo)
    assert_error(demo.put("/api/v1/retail-point/%s" % point["id"], content=raw, headers=headers), 400, code)
