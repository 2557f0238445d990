"""Basic auth and the per-account request counters."""

from __future__ import annotations

import base64

import httpx
import pytest

from cabinet_helpers import DEMO, assert_error, create_point


@pytest.mark.parametrize("auth, headers", [
    (None, {}),
    (("demo@example.com", "wrong"), {}),
    (("nobody@example.com", "demo-password-1"), {}),
    (None, {"Authorization": "Basic !!!not-base64"}),
    (None, {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}),
    (None, {"Authorization": "Bearer abc"}),
], ids=["missing", "wrong-password", "unknown-login", "bad-base64", "no-colon", "bearer"])
def test_unauthorized(base_url, auth, headers):
    with httpx.Client(base_url=base_url, auth=auth, headers=headers) as client:
        response = client.get("/api/v1/retail-points")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="modulkassa"'


def test_login_is_case_insensitive(base_url):
    with httpx.Client(base_url=base_url, auth=("Demo@Example.COM", DEMO[1])) as client:
        assert client.get("/api/v1/retail-points").status_code == 200


def test_counters_by_login_and_route_template(demo, emu, base_url):
    point = create_point(demo)
    demo.get("/api/v1/retail-point/%s" % point["id"])
    demo.put("/api/v1/retail-point/%s" % point["id"], json={"name": "B"})
    demo.put("/api/v1/retail-point/%s" % point["id"], json={"name": "C"})
    demo.get("/api/v1/retail-points")
    with httpx.Client(base_url=base_url) as anonymous:
        anonymous.get("/api/v1/retail-points")
    emu.post("/api/device/v1/activate", json={"code": "nope", "serial": "SN-1"})
    emu.get("/health")
    emu.get("/api/_emu/knobs")

    counters = emu.get("/api/_emu/counters").json()
    assert counters == {
        "demo@example.com": {"POST /api/v1/retail-points": 1, "GET /api/v1/retail-point/{id}": 1,
                             "PUT /api/v1/retail-point/{id}": 2, "GET /api/v1/retail-points": 1},
        "<anonymous>": {"GET /api/v1/retail-points": 1},
        "<device>": {"POST /api/device/v1/activate": 1},
    }
    assert emu.delete("/api/_emu/counters").status_code == 204
    assert emu.get("/api/_emu/counters").json() == {}


def test_counters_count_concurrent_requests(demo, emu):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: demo.get("/api/v1/retail-points"), range(200)))
    assert emu.get("/api/_emu/counters").json()["demo@example.com"]["GET /api/v1/retail-points"] == 200
