"""The retail-point API: CRUD, partial updates, ids, conflicts, account isolation."""

from __future__ import annotations

import uuid

from cabinet_helpers import INN12, KPP, assert_error, create_point, point_body


def test_health_and_openapi(emu):
    assert emu.get("/health").json() == {"status": "ok"}
    doc = emu.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/retail-points", "/api/v1/retail-point/{id}", "/api/device/v1/activate",
                 "/api/device/v1/bindings", "/api/_emu/knobs", "/api/_emu/counters"):
        assert path in doc["paths"], path
    assert {"cabinetBasic", "deviceBasic"} <= set(doc["components"]["securitySchemes"])
    assert "PointInput" in doc["components"]["schemas"]
    assert emu.get("/docs").status_code == 200


def test_crud_round_trip(demo):
    created = create_point(demo, name="Shop A")
    assert created["kktStatus"] == "KKT_NOT_PLUGGED"
    assert created["registrationRequestStatus"] == "NOT_EXISTS"
    assert created["posLinkToken"] is None and created["kkmInfo"] is None
    point_id = created["id"]

    assert demo.get("/api/v1/retail-point/%s" % point_id).json() == created
    assert demo.get("/api/v1/retail-points").json() == [created]

    updated = demo.put("/api/v1/retail-point/%s" % point_id, json={"name": "Shop B"})
    assert updated.status_code == 200 and updated.json()["name"] == "Shop B"

    assert demo.delete("/api/v1/retail-point/%s" % point_id).status_code == 204
    assert_error(demo.get("/api/v1/retail-point/%s" % point_id), 404, "retail-point-not-found")
    assert_error(demo.delete("/api/v1/retail-point/%s" % point_id), 404, "retail-point-not-found")
    assert demo.get("/api/v1/retail-points").json() == []


def test_list_keeps_creation_order(demo):
    ids = [create_point(demo, name="Shop %d" % i)["id"] for i in range(5)]
    assert [p["id"] for p in demo.get("/api/v1/retail-points").json()] == ids


def test_create_without_id_generates_one(demo):
    body = point_body()
    del body["id"]
    created = demo.post("/api/v1/retail-points", json=body).json()
    assert uuid.UUID(created["id"]).version == 4


def test_ids_are_case_insensitive(demo):
    upper = str(uuid.uuid4()).upper()
    created = create_point(demo, id=upper)
    assert created["id"] == upper.lower()
    assert demo.get("/api/v1/retail-point/%s" % upper).status_code == 200


def test_non_uuid_path_is_not_found(demo):
    assert_error(demo.get("/api/v1/retail-point/not-a-uuid"), 404, "retail-point-not-found")


def test_partial_put_deep_merges(demo):
    point = create_point(demo, settings={"defaultTaxMode": "COMMON", "defaultVatTag": 1105,
                                         "egaisSettings": {"kpp": KPP, "utmHost": "utm.local"}})
    response = demo.put("/api/v1/retail-point/%s" % point["id"],
                        json={"settings": {"defaultVatTag": 1102, "egaisSettings": {"utmTimeout": 30}}})
    assert response.status_code == 200, response.text
    settings = response.json()["settings"]
    assert settings == {"defaultTaxMode": "COMMON", "defaultVatTag": 1102,
                        "egaisSettings": {"kpp": KPP, "utmHost": "utm.local", "utmTimeout": 30}}
    after = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert after["name"] == point["name"] and after["phone"] == point["phone"] and after["settings"] == settings


def test_server_managed_fields_are_ignored(demo):
    point = create_point(demo, kktStatus="REGISTERED", kkmInfo={"serialNumber": "X"})
    assert point["kktStatus"] == "KKT_NOT_PLUGGED" and point["kkmInfo"] is None
    other_id = str(uuid.uuid4())
    updated = demo.put("/api/v1/retail-point/%s" % point["id"], json={"id": other_id, "kktStatus": "REGISTERED"})
    assert updated.json()["id"] == point["id"] and updated.json()["kktStatus"] == "KKT_NOT_PLUGGED"


def test_clearing_optional_fields(demo):
    point = create_point(demo)
    cleared = demo.put("/api/v1/retail-point/%s" % point["id"],
                       json={"phone": "", "inn": INN12, "settings": {"egaisSettings": {"kpp": ""}}})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["phone"] == "" and cleared.json()["inn"] == INN12


def test_duplicate_id_conflicts_in_any_account(demo, other):
    point = create_point(demo)
    assert_error(demo.post("/api/v1/retail-points", json=point_body(id=point["id"])), 409,
                 "retail-point-already-exists")
    assert_error(other.post("/api/v1/retail-points", json=point_body(id=point["id"])), 409,
                 "retail-point-already-exists")
    assert len(demo.get("/api/v1/retail-points").json()) == 1
    assert other.get("/api/v1/retail-points").json() == []


def test_accounts_are_isolated(demo, other):
    point = create_point(demo)
    path = "/api/v1/retail-point/%s" % point["id"]
    assert other.get("/api/v1/retail-points").json() == []
    assert_error(other.get(path), 404, "retail-point-not-found")
    assert_error(other.put(path, json={"name": "stolen"}), 404, "retail-point-not-found")
    assert_error(other.delete(path), 404, "retail-point-not-found")
    assert demo.get(path).json()["name"] == point["name"]


def test_delete_forbidden_while_registration_runs(demo):
    point = create_point(demo)
    path = "/api/v1/retail-point/%s" % point["id"]
    assert demo.put(path, json={"registrationRequestStatus": "STARTED"}).status_code == 200
    assert_error(demo.delete(path), 409, "retail-point-delete-forbidden")
    for status in ("DRAFT", "ERROR", "REGISTERED"):
        assert demo.put(path, json={"registrationRequestStatus": status}).status_code == 200
    assert demo.delete(path).status_code == 204


def test_framework_errors_use_the_error_body(demo, emu):
    body = assert_error(demo.patch("/api/v1/retail-points"), 405, "method-not-allowed")
    assert body["error"] == "Method Not Allowed"
    assert_error(demo.get("/api/v1/no-such-thing"), 404, "not-found")
    assert_error(emu.get("/no-such-thing"), 404, "not-found")
