"""Activation codes and the device API: redeem, rebind, wrong/expired/used codes, attempts, bindings."""

from __future__ import annotations

import time

import httpx
import pytest

from cabinet_helpers import assert_error, create_point

ACTIVATE = "/api/device/v1/activate"
BINDINGS = "/api/device/v1/bindings"


def issue(client, point_id, code):
    response = client.put("/api/v1/retail-point/%s" % point_id, json={"posLinkToken": code})
    assert response.status_code == 200, response.text
    return response.json()


def activate(emu, code, serial="SN-REG01", **extra):
    return emu.post(ACTIVATE, json={"code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "1.0.0",
                                    **extra})


def bindings(base_url, credentials):
    with httpx.Client(base_url=base_url, auth=(credentials["login"], credentials["password"])) as device:
        response = device.get(BINDINGS)
    assert response.status_code == 200, response.text
    return response.json()


def test_redeem_binds_the_point(demo, emu, base_url):
    point = create_point(demo, name="Shop A")
    assert issue(demo, point["id"], "123456")["posLinkToken"] == "123456"

    response = activate(emu, "123456")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["retailPoint"] == {"id": point["id"], "name": "Shop A", "address": point["address"],
                                     "inn": point["inn"]}
    assert set(answer["credentials"]) == {"login", "password"}

    after = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert after["kktStatus"] == "REGISTERED" and after["posLinkToken"] is None
    assert after["kkmInfo"]["serialNumber"] == "SN-REG01" and after["kkmInfo"]["model"] == "MSPOS-K"
    assert after["kkmInfo"]["appVersion"] == "1.0.0" and after["kkmInfo"]["activatedAt"]

    listed = bindings(base_url, answer["credentials"])
    assert listed == [{"retailPointId": point["id"], "name": "Shop A", "since": after["kkmInfo"]["activatedAt"]}]


def test_used_code(demo, emu):
    point = create_point(demo)
    issue(demo, point["id"], "111111")
    assert activate(emu, "111111").status_code == 200
    assert_error(activate(emu, "111111"), 409, "activation-code-used")
    assert_error(activate(emu, "111111", serial="SN-OTHER"), 409, "activation-code-used")


def test_wrong_and_withdrawn_codes(demo, emu):
    point = create_point(demo)
    assert_error(activate(emu, "000000"), 404, "activation-code-invalid")
    issue(demo, point["id"], "222222")
    issue(demo, point["id"], None)  # withdrawn
    assert_error(activate(emu, "222222"), 404, "activation-code-invalid")
    issue(demo, point["id"], "333333")
    issue(demo, point["id"], "444444")  # replaced: the old code is dead
    assert_error(activate(emu, "333333"), 404, "activation-code-invalid")
    assert activate(emu, "444444").status_code == 200


def test_expired_code(demo, emu):
    emu.put("/api/_emu/knobs", json={"code_ttl_s": 0.05})
    point = create_point(demo)
    issue(demo, point["id"], "555555")
    time.sleep(0.1)
    assert_error(activate(emu, "555555"), 410, "activation-code-expired")
    issue(demo, point["id"], "555555")  # re-issuing restarts the clock
    assert activate(emu, "555555").status_code == 200


def test_attempt_limit_per_serial(demo, emu):
    point = create_point(demo)
    issue(demo, point["id"], "777777")
    for attempt in range(5):
        assert_error(activate(emu, "wrong-%d" % attempt, serial="SN-BAD"), 404, "activation-code-invalid")
    response = activate(emu, "777777", serial="SN-BAD")  # even the right code, for now
    assert_error(response, 429, "activation-code-attempts-exceeded")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert activate(emu, "777777", serial="SN-GOOD").status_code == 200  # other serials are not locked


def test_code_conflict_between_points(demo, other, emu):
    first = create_point(demo)
    second = create_point(other)
    issue(demo, first["id"], "888888")
    response = other.put("/api/v1/retail-point/%s" % second["id"], json={"posLinkToken": "888888"})
    assert_error(response, 409, "activation-code-conflict")
    assert issue(demo, first["id"], "888888")["posLinkToken"] == "888888"  # the holder may re-issue it


def test_expired_code_can_be_taken_over(demo, emu):
    emu.put("/api/_emu/knobs", json={"code_ttl_s": 0.05})
    first = create_point(demo)
    second = create_point(demo)
    issue(demo, first["id"], "999999")
    time.sleep(0.1)
    issue(demo, second["id"], "999999")
    assert demo.get("/api/v1/retail-point/%s" % first["id"]).json()["posLinkToken"] is None
    emu.put("/api/_emu/knobs", json={"code_ttl_s": 900})
    assert activate(emu, "999999").json()["retailPoint"]["id"] == second["id"]


def test_rebinding_moves_the_point_and_credentials_are_stable(demo, emu, base_url):
    point = create_point(demo, name="Moving")
    issue(demo, point["id"], "100001")
    old = activate(emu, "100001", serial="SN-OLD").json()["credentials"]
    issue(demo, point["id"], "100002")
    new = activate(emu, "100002", serial="SN-NEW").json()["credentials"]
    assert old != new

    assert bindings(base_url, old) == []
    assert [b["retailPointId"] for b in bindings(base_url, new)] == [point["id"]]
    assert demo.get("/api/v1/retail-point/%s" % point["id"]).json()["kkmInfo"]["serialNumber"] == "SN-NEW"

    issue(demo, point["id"], "100003")
    assert activate(emu, "100003", serial="SN-OLD").json()["credentials"] == old  # stable per serial


def test_one_serial_holds_several_points(demo, emu, base_url):
    first = create_point(demo, name="One")
    second = create_point(demo, name="Two")
    issue(demo, first["id"], "200001")
    issue(demo, second["id"], "200002")
    activate(emu, "200001")
    credentials = activate(emu, "200002").json()["credentials"]
    assert sorted(b["name"] for b in bindings(base_url, credentials)) == ["One", "Two"]


def test_release_binding(demo, emu, base_url):
    point = create_point(demo)
    issue(demo, point["id"], "300001")
    credentials = activate(emu, "300001").json()["credentials"]
    other_point = create_point(demo)
    issue(demo, other_point["id"], "300002")
    activate(emu, "300002", serial="SN-ELSEWHERE")

    with httpx.Client(base_url=base_url, auth=(credentials["login"], credentials["password"])) as device:
        assert_error(device.delete("%s/%s" % (BINDINGS, other_point["id"])), 404, "binding-not-found")
        assert device.delete("%s/%s" % (BINDINGS, point["id"])).status_code == 204
        assert_error(device.delete("%s/%s" % (BINDINGS, point["id"])), 404, "binding-not-found")
        assert device.get(BINDINGS).json() == []
    after = demo.get("/api/v1/retail-point/%s" % point["id"]).json()
    assert after["kktStatus"] == "KKT_NOT_PLUGGED" and after["kkmInfo"] is None


def test_deleting_a_point_removes_its_binding(demo, emu, base_url):
    point = create_point(demo)
    issue(demo, point["id"], "400001")
    credentials = activate(emu, "400001").json()["credentials"]
    assert demo.delete("/api/v1/retail-point/%s" % point["id"]).status_code == 204
    assert bindings(base_url, credentials) == []


@pytest.mark.parametrize("auth", [None, ("demo@example.com", "demo-password-1"), ("device-x", "nope")],
                         ids=["none", "cabinet-account", "wrong"])
def test_bindings_need_device_credentials(base_url, auth):
    with httpx.Client(base_url=base_url, auth=auth) as client:
        response = client.get(BINDINGS)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


@pytest.mark.parametrize("body, field", [
    ({"serial": "SN-1"}, "code"),
    ({"code": "1"}, "serial"),
    ({"code": 123456, "serial": "SN-1"}, "code"),
    ({"code": "1", "serial": "SN\n1"}, "serial"),
])
def test_activation_request_is_validated(emu, body, field):
    assert_error(emu.post(ACTIVATE, json=body), 400, "activation-request-invalid", field)
