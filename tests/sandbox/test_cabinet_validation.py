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
    {"inn": None, "phone": None, "address": None},
    {"settings": {"defaultTaxMode": "PATENT", "defaultVatTag": 1107}},
    {"settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1113}},
    {"settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1114}},
    {"settings": {"defaultTaxMode": "SIMPLIFIED", "defaultVatTag": 1109}},
    {"settings": {"defaultTaxMode": "SIMPLIFIED_WITH_EXPENSE", "defaultVatTag": 1112}},
    {"settings": {"defaultTaxMode": "ENVD", "defaultVatTag": 1105}},   # old points: the collection refuses new ones
], ids=["name-255", "inn12-null-kpp", "inn12-empty-kpp", "kpp-letters", "optional-null", "enums", "vat-22", "vat-22-122",
        "usn-vat-5", "usn-vat-7-107", "envd"])
def test_good_point_is_accepted(demo, fields):
    create_point(demo, **fields)


def test_put_validates_the_merged_point(demo):
    point = create_point(demo, inn=INN10, settings={"egaisSettings": {"kpp": KPP}})
    path = "/api/v1/retail-point/%s" % point["id"]
    assert_error(demo.put(path, json={"inn": INN12}), 400, "kpp-not-allowed", "settings.egaisSettings.kpp")
    assert_error(demo.put(path, json={"name": ""}), 400, "name-required", "name")
    assert demo.get(path).json() == point  # nothing half-applied


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
