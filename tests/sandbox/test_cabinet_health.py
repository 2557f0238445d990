"""PUT /api/_emu/retail-point/{id}/health: a test drives what the cabinet reports about a point's register and its
tax-office registration, and DELETE keeps following the registration state as the cabinet does."""

from __future__ import annotations

import uuid

import pytest

from cabinet_helpers import assert_error, create_point

KKT_STATUSES = ["POS_VERSION_OUTDATED", "KKT_NOT_ENABLED_FOR_FZ54", "FN_NOT_PLUGGED", "NOT_REGISTERED", "REGISTERED"]
REGISTRATION_STATUSES = [
    "NOT_EXISTS", "DRAFT", "STARTED", "OFD_WAIT_DECL_SIGN", "DECL_SIGNING", "OFD_WAIT_IRUD", "OFD_WAIT_RNM",
    "OFD_WAIT_REPORT", "REPORT_PRINT_REQUESTED", "REPORT_PRINTED", "REPORT_PRINT_ERROR", "OFD_WAIT_REPORT_SIGN",
    "REPORT_SIGNING", "OFD_WAIT_FOR_FINAL_RESPONSE", "REGISTERED", "ERROR"]
DELETABLE = {"NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED"}


def health_path(point_id):
    return "/api/_emu/retail-point/%s/health" % point_id


def bound_point(demo, emu, serial="SN-REG01", code="424242"):
    point = create_point(demo, name="Shop %s" % code)
    assert demo.put("/api/v1/retail-point/%s" % point["id"], json={"posLinkToken": code}).status_code == 200
    response = emu.post("/api/device/v1/activate", json={"code": code, "serial": serial})
    assert response.status_code == 200, response.text
    return point


@pytest.mark.parametrize("status", KKT_STATUSES)
def test_kkt_status_of_a_point_a_register_holds(demo, emu, status):
    point = bound_point(demo, emu)
    response = emu.put(health_path(point["id"]), json={"kktStatus": status})
    assert response.status_code == 200, response.text
    shown = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert shown["kktStatus"] == status
    assert shown["kkmInfo"]["serialNumber"] == "SN-REG01"  # still held by its register
    assert shown["registrationRequestStatus"] == "NOT_EXISTS"  # the other field is left alone
    assert response.json() == shown


def test_a_point_no_register_holds_can_only_be_not_plugged(demo, emu):
    point = create_point(demo)
    body = assert_error(emu.put(health_path(point["id"]), json={"kktStatus": "REGISTERED"}), 409, "retail-point-not-bound")
    assert body["errors"] == [{"field": "kktStatus", "code": "retail-point-not-bound"}]
    assert demo.get("/api/v1/retail-point/%s" % point["id"]).json()["kktStatus"] == "KKT_NOT_PLUGGED"
    assert emu.put(health_path(point["id"]), json={"kktStatus": "KKT_NOT_PLUGGED"}).status_code == 200


def test_a_held_point_is_released_through_the_device_api_not_here(demo, emu):
    point = bound_point(demo, emu)
    assert_error(emu.put(health_path(point["id"]), json={"kktStatus": "KKT_NOT_PLUGGED"}), 409, "retail-point-bound")
    assert demo.get("/api/v1/retail-point/%s" % point["id"]).json()["kktStatus"] == "REGISTERED"


def test_activation_reports_registered_again_after_a_health_change(demo, emu):
    point = bound_point(demo, emu, code="515151")
    assert emu.put(health_path(point["id"]), json={"kktStatus": "FN_NOT_PLUGGED"}).status_code == 200
    assert demo.put("/api/v1/retail-point/%s" % point["id"], json={"posLinkToken": "616161"}).status_code == 200
    assert emu.post("/api/device/v1/activate", json={"code": "616161", "serial": "SN-REG02"}).status_code == 200
    shown = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert (shown["kktStatus"], shown["kkmInfo"]["serialNumber"]) == ("REGISTERED", "SN-REG02")


@pytest.mark.parametrize("status", REGISTRATION_STATUSES)
def test_delete_follows_the_registration_state(demo, emu, status):
    point = create_point(demo)
    path = "/api/v1/retail-point/%s" % point["id"]
    response = emu.put(health_path(point["id"]), json={"registrationRequestStatus": status})
    assert response.status_code == 200 and response.json()["registrationRequestStatus"] == status
    if status in DELETABLE:
        assert demo.delete(path).status_code == 204
        assert_error(demo.get(path), 404, "retail-point-not-found")
    else:
        assert_error(demo.delete(path), 409, "retail-point-delete-forbidden")
        assert demo.get(path).json()["registrationRequestStatus"] == status


def test_both_fields_at_once_and_health_is_not_counted(demo, emu):
    point = bound_point(demo, emu)
    assert emu.delete("/api/_emu/counters").status_code == 204
    response = emu.put(health_path(point["id"].upper()), json={"kktStatus": "NOT_REGISTERED",
                                                               "registrationRequestStatus": "ERROR"})
    assert response.status_code == 200, response.text
    assert (response.json()["kktStatus"], response.json()["registrationRequestStatus"]) == ("NOT_REGISTERED", "ERROR")
    assert emu.get("/api/_emu/counters").json() == {}  # emulator-only: no API write is counted


@pytest.mark.parametrize("body,code,field", [
    ({"kktStatus": "BROKEN"}, "kkt-status-invalid", "kktStatus"),
    ({"kktStatus": None}, "kkt-status-invalid", "kktStatus"),
    ({"registrationRequestStatus": "DONE"}, "registration-request-status-invalid", "registrationRequestStatus"),
    ({"registrationRequestStatus": 1}, "registration-request-status-invalid", "registrationRequestStatus"),
    ({"kkmInfo": {"serialNumber": "X"}}, "health-field-unknown", "kkmInfo"),
    ({}, "health-empty", "body"),
])
def test_bad_health_bodies_change_nothing(demo, emu, body, code, field):
    point = bound_point(demo, emu)
    before = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert_error(emu.put(health_path(point["id"]), json=body), 400, code, field)
    assert demo.get("/api/v1/retail-point/%s" % point["id"]).json() == before


def test_unknown_point(emu):
    assert_error(emu.put(health_path(uuid.uuid4()), json={"registrationRequestStatus": "DRAFT"}), 404,
                 "retail-point-not-found")
    assert_error(emu.put(health_path("not-a-uuid"), json={"registrationRequestStatus": "DRAFT"}), 404,
                 "retail-point-not-found")


def test_any_account_s_point(other, emu):
    point = create_point(other)
    assert emu.put(health_path(point["id"]), json={"registrationRequestStatus": "STARTED"}).status_code == 200
    assert other.get("/api/v1/retail-point/%s" % point["id"]).json()["registrationRequestStatus"] == "STARTED"


def test_openapi_describes_the_endpoint(emu):
    document = emu.get("/openapi.json").json()
    assert "put" in document["paths"]["/api/_emu/retail-point/{id}/health"]
    schema = document["components"]["schemas"]["HealthInput"]
    assert set(schema["properties"]) == {"kktStatus", "registrationRequestStatus"}
