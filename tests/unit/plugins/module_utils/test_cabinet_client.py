# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the cabinet client: no network, every answer comes from an httpx.MockTransport."""

from __future__ import annotations

import base64
import json
import random
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate

import certifi
import httpx
import pytest
from hypothesis import example, given, settings, strategies as st

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.modulkassa.pos.plugins.module_utils import _cabinet_client as cc
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import CabinetClient, parse_retry_after
from ansible_collections.modulkassa.pos.plugins.module_utils import _cabinet_errors as errors
from ansible_collections.modulkassa.pos.plugins.module_utils._version import USER_AGENT

BASE = "https://cabinet.example.test"
LOGIN = "demo@example.com"
PASSWORD = "Pa55-w0rd-XYZZY"
BASIC = base64.b64encode(("%s:%s" % (LOGIN, PASSWORD)).encode()).decode()
POINTS = "/api/v1/retail-points"
POINT = {"id": "0b7e3c1e-1111-4222-8333-444455556666", "name": "Shop 1", "posLinkToken": None}


def spring(status, message, path=POINTS, **extra):
    body = {"timestamp": "2026-11-24T07:00:00Z", "status": status, "error": httpx.codes.get_reason_phrase(status),
            "message": message, "path": path}
    body.update(extra)
    return body


class Server(object):
    """Plays a script of answers (httpx.Response, an exception to raise, or a callable) and records requests."""

    def __init__(self, *script, default=None):
        self.script = list(script)
        self.default = default
        self.requests = []
        self.lock = threading.Lock()

    def __call__(self, request):
        with self.lock:
            self.requests.append(request)
            item = self.script.pop(0) if self.script else self.default
        if callable(item) and not isinstance(item, httpx.Response):
            item = item(request)
        if isinstance(item, BaseException):
            raise item
        if item is None:
            raise AssertionError("unexpected request %s %s" % (request.method, request.url))
        return item


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def make(sleeps, warnings):
    clients = []

    def factory(server, url=BASE, **kwargs):
        kwargs.setdefault("sleep", sleeps.append)
        kwargs.setdefault("warn", warnings.append)
        kwargs.setdefault("random", lambda: 1.0)  # the top of the jitter range: deterministic delays
        client = CabinetClient(url, LOGIN, PASSWORD, transport=httpx.MockTransport(server), **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def ok(data=None, status=200, **kwargs):
    if data is None:
        return httpx.Response(status, **kwargs)
    return httpx.Response(status, json=data, **kwargs)


def err(status, message, path=POINTS, **kwargs):
    return httpx.Response(status, json=spring(status, message, path=path, **kwargs.pop("body_extra", {})), **kwargs)


# -- construction ----------------------------------------------------------------------------------------


def test_list_points_sends_auth_user_agent_and_accept(make):
    server = Server(ok([POINT]))
    assert make(server).list_points() == [POINT]
    request = server.requests[0]
    assert request.method == "GET"
    assert str(request.url) == BASE + POINTS
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("modulkassa.pos/")
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Basic " + BASIC


def test_base_url_trailing_slash_stripped_and_prefix_kept(make):
    server = Server(ok([]))
    client = make(server, url="http://127.0.0.1:8080/prefix/")
    assert client.base_url == "http://127.0.0.1:8080/prefix"
    client.list_points()
    assert str(server.requests[0].url) == "http://127.0.0.1:8080/prefix" + POINTS


@pytest.mark.parametrize("url", ["ftp://cabinet.example.test", "cabinet.example.test", "", "https://", "https:///x"])
def test_bad_url_is_a_value_error_naming_cabinet_url(url):
    with pytest.raises(errors.CabinetArgumentError) as info:
        CabinetClient(url, LOGIN, PASSWORD)
    assert isinstance(info.value, ValueError)
    assert "cabinet_url" in str(info.value)
    assert PASSWORD not in str(info.value)


def test_url_with_userinfo_is_rejected_without_echoing_it():
    with pytest.raises(errors.CabinetArgumentError) as info:
        CabinetClient("https://admin:T0p-S3cret@cabinet.example.test/", LOGIN, PASSWORD)
    message = str(info.value)
    assert "cabinet_url" in message and "cabinet.example.test" in message
    assert "T0p-S3cret" not in message and "admin" not in message


@pytest.fixture
def httpx_clients(monkeypatch):
    """The keyword arguments of every httpx.Client the cabinet client makes (the clients are real)."""
    seen = []
    real_client = httpx.Client

    def recording_client(**kwargs):
        seen.append(kwargs)
        return real_client(**kwargs)

    monkeypatch.setattr(cc.httpx, "Client", recording_client)
    return seen


def test_client_options_reach_httpx(httpx_clients):
    seen = httpx_clients
    CabinetClient(BASE, LOGIN, PASSWORD, timeout=7).close()
    CabinetClient(BASE, LOGIN, PASSWORD, validate_certs=False, ca_path=certifi.where()).close()
    CabinetClient(BASE, LOGIN, PASSWORD, ca_path=certifi.where()).close()
    CabinetClient(BASE, LOGIN, PASSWORD, ca_path=certifi.__path__[0]).close()  # a directory: capath=

    default, insecure, with_file, with_dir = seen
    assert default["timeout"] == httpx.Timeout(7.0)
    assert default["timeout"].connect == default["timeout"].read == default["timeout"].write == default["timeout"].pool == 7.0
    assert isinstance(default["verify"], ssl.SSLContext)  # the default trust store, verifying
    assert default["verify"].verify_mode == ssl.CERT_REQUIRED and default["verify"].check_hostname
    assert default["limits"].max_connections >= 16 and default["limits"].max_keepalive_connections >= 16
    assert default["follow_redirects"] is False
    assert insecure["verify"] is False
    assert isinstance(with_file["verify"], ssl.SSLContext) and isinstance(with_dir["verify"], ssl.SSLContext)


def test_ssl_contexts_are_built_once_per_process(monkeypatch):
    # Parsing a CA bundle costs about 20 ms; a play over 100 registers builds a client per task.
    built = []
    real_create = cc.httpx.create_ssl_context

    def counting_create(*args, **kwargs):
        built.append(kwargs)
        return real_create(*args, **kwargs)

    monkeypatch.setattr(cc, "_SSL_CONTEXTS", {})
    monkeypatch.setattr(cc.httpx, "create_ssl_context", counting_create)
    cc.warm_default_ssl_context()  # what the action plugins' base does in the controller, before the forks
    assert "httpcore" in sys.modules and "h11" in sys.modules  # loaded lazily by httpx: now before the forks too
    first, second = CabinetClient(BASE, LOGIN, PASSWORD), CabinetClient(BASE, LOGIN, PASSWORD)
    with_file = CabinetClient(BASE, LOGIN, PASSWORD, ca_path=certifi.where())
    try:
        assert len(built) == 1
        assert first._client._transport._pool._ssl_context is second._client._transport._pool._ssl_context
        assert with_file._client._transport._pool._ssl_context is not first._client._transport._pool._ssl_context
    finally:
        for client in (first, second, with_file):
            client.close()


def test_bad_ca_path_and_numbers_are_argument_errors(tmp_path):
    with pytest.raises(errors.CabinetArgumentError, match="ca_path .* does not exist"):
        CabinetClient(BASE, LOGIN, PASSWORD, ca_path=str(tmp_path / "missing.pem"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(errors.CabinetArgumentError, match="could not load CA certificates"):
        CabinetClient(BASE, LOGIN, PASSWORD, ca_path=str(garbage))
    for kwargs, name in [({"timeout": 0}, "timeout"), ({"timeout": "30"}, "timeout"), ({"retries": -1}, "retries"),
                         ({"retries": 1.5}, "retries"), ({"retries": True}, "retries")]:
        with pytest.raises(errors.CabinetArgumentError, match=name):
            CabinetClient(BASE, LOGIN, PASSWORD, **kwargs)


def test_missing_httpx_raises_missing_required_lib(monkeypatch):
    monkeypatch.setattr(cc, "HAS_HTTPX", False)
    with pytest.raises(errors.CabinetError) as info:
        CabinetClient(BASE, LOGIN, PASSWORD)
    assert str(info.value) == missing_required_lib("httpx")


def test_context_manager_closes(make):
    server = Server(default=ok([]))
    with make(server) as client:
        client.list_points()
    with pytest.raises(errors.CabinetError, match="closed"):
        client.list_points()
    client.close()  # idempotent


# -- retries --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retried_statuses(make, sleeps, status):
    server = Server(err(status, "busy"), err(status, "busy"), ok([POINT]))
    client = make(server)
    assert client.list_points() == [POINT]
    assert len(server.requests) == 3
    assert len(sleeps) == 2
    assert [request.method for request in server.requests] == ["GET"] * 3


@pytest.mark.parametrize("exc", [httpx.ReadError("connection reset by peer"),
                                 httpx.RemoteProtocolError("Server disconnected without sending a response."),
                                 httpx.ConnectError("[Errno 111] Connection refused"),
                                 httpx.ReadTimeout("timed out"),
                                 httpx.ConnectTimeout("timed out"),
                                 httpx.WriteError("broken pipe")])
def test_retried_transport_errors(make, sleeps, warnings, exc):
    server = Server(exc, ok(POINT))
    assert make(server).get_point(POINT["id"]) == POINT
    assert len(server.requests) == 2 and len(sleeps) == 1
    assert type(exc).__name__ in warnings[0]


def test_retry_after_seconds_honoured(make, sleeps):
    server = Server(err(429, "rate-limited", headers={"Retry-After": "7"}), ok([]))
    make(server, random=lambda: 0.0).list_points()
    assert sleeps == [7.0]


def test_retry_after_pauses_the_other_threads_of_the_client(make):
    # retail_points writes from up to 64 threads through one client: a rate limit answered to one of them
    # holds back the others' new attempts until Retry-After has passed (real time, real threads).
    limited = threading.Event()
    sent = []

    def answer(request):
        sent.append((request.url.path, time.monotonic()))
        if request.url.path.endswith("/a") and not limited.is_set():
            limited.set()
            return err(429, "rate-limited", headers={"Retry-After": "0.4"})
        return ok(dict(POINT, id=request.url.path.rsplit("/", 1)[1]))

    client = make(Server(default=answer), sleep=time.sleep)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(client.get_point, "a")
        assert limited.wait(5)
        second = pool.submit(client.get_point, "b")
        assert first.result(10)["id"] == "a" and second.result(10)["id"] == "b"
    limited_at = sent[0][1]
    b_sent = [at for path, at in sent if path.endswith("/b")]
    assert len(b_sent) == 1 and b_sent[0] - limited_at >= 0.35  # waited for the pause, was not answered 429 itself
    assert [path.rsplit("/", 1)[1] for path, at in sent].count("a") == 2  # the limited request was retried once


def test_a_single_thread_is_not_held_back_twice(make, sleeps):
    # The thread that got the 429 waits in its own retry; its next request is not delayed again.
    server = Server(err(429, "rate-limited", headers={"Retry-After": "7"}), ok([]), ok([]))
    client = make(server, random=lambda: 0.0)
    client.list_points()
    client.list_points()
    assert sleeps == [7.0]


def test_retry_after_http_date_honoured(make, sleeps):
    when = formatdate(time.time() + 30, usegmt=True)
    server = Server(err(503, "maintenance", headers={"Retry-After": when}), ok([]))
    make(server, random=lambda: 0.0).list_points()
    assert 28.0 <= sleeps[0] <= 30.5


def test_retry_after_capped(make, sleeps):
    server = Server(err(429, "slow down", headers={"Retry-After": "3600"}), err(429, "slow down", headers={"Retry-After": "3600"}),
                    ok([]))
    make(server, random=lambda: 0.0).list_points()
    assert sleeps == [60.0, 60.0]
    sleeps[:] = []
    server = Server(err(429, "slow down", headers={"Retry-After": "3600"}), ok([]))
    make(server, random=lambda: 0.0, retry_after_max=5).list_points()
    assert sleeps == [5.0]


def test_retry_after_shorter_than_backoff_waits_the_backoff(make, sleeps):
    server = Server(*([err(503, "x", headers={"Retry-After": "0"})] * 3), ok([]))
    make(server).list_points()
    assert sleeps == [0.5, 1.0, 2.0]


def test_backoff_grows_exponentially_and_is_capped(make, sleeps):
    server = Server(*([err(503, "x")] * 6), ok([]))
    make(server, retries=6, backoff_max=3).list_points()
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_backoff_is_fully_jittered(make, sleeps):
    draws = iter([0.25, 0.5, 0.75])
    server = Server(*([err(502, "x")] * 3), ok([]))
    make(server, random=lambda: next(draws)).list_points()
    assert sleeps == [0.125, 0.5, 1.5]

    sleeps[:] = []
    server = Server(*([err(502, "x")] * 3), ok([]))
    make(server, random=random.Random(42)).list_points()  # a random.Random instance works too
    caps = [0.5, 1.0, 2.0]
    assert all(0.0 <= delay <= cap for delay, cap in zip(sleeps, caps))
    assert len(set(sleeps)) == 3


def test_each_retry_warns_usefully(make, warnings):
    path = "/api/v1/retail-point/" + POINT["id"]
    server = Server(err(429, "slow", path=path), ReadErrorLike(), ok(POINT))
    make(server, random=lambda: 0.75).update_point(POINT["id"], {"name": "Shop 2"})
    assert warnings == [
        "cabinet: PUT %s got HTTP 429 Too Many Requests; retry 1 of 3 in 0.4 s" % path,
        "cabinet: PUT %s got ReadError: reset; retry 2 of 3 in 0.8 s" % path,
    ]


def ReadErrorLike():  # noqa: N802 - reads like the exception it builds
    return httpx.ReadError("reset")


def test_a_post_the_caller_does_not_call_safe_is_not_retried(make, sleeps, warnings):
    # The method decides, unless the caller says otherwise: only a create (its body carries the id) says a POST is safe.
    server = Server(err(503, "busy"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server)._call("POST", POINTS, body={"name": "Shop"}, expect=dict)
    assert len(server.requests) == 1 and not sleeps and not warnings
    assert "failed after 1 attempt:" in str(info.value)
    assert "not retried: a POST request is not safe to repeat" in str(info.value)


def test_post_transport_error_may_have_been_applied(make):
    server = Server(httpx.ReadError("reset"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server)._call("POST", POINTS, body={"name": "Shop"}, expect=dict)
    assert len(server.requests) == 1
    assert "may have been applied" in str(info.value)


def test_post_with_client_id_is_retried(make, sleeps):
    server = Server(httpx.RemoteProtocolError("Server disconnected"), err(500, "oops"), ok(POINT))
    assert make(server).create_point({"id": POINT["id"], "name": "Shop 1"}) == POINT
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert json.loads(server.requests[-1].content) == {"id": POINT["id"], "name": "Shop 1"}


def test_retries_zero_disables(make, sleeps):
    server = Server(err(503, "busy"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server, retries=0).list_points()
    assert len(server.requests) == 1 and not sleeps
    assert "failed after 1 attempt:" in str(info.value) and "not retried" not in str(info.value)


def test_retries_exhausted_names_method_path_attempts_cause(make, warnings):
    server = Server(default=httpx.Response(503, text="down"))
    client = make(server)
    with pytest.raises(errors.CabinetUnavailable) as info:
        client.list_points()
    assert str(info.value) == "GET /api/v1/retail-points failed after 4 attempts: HTTP 503 Service Unavailable"
    assert (info.value.method, info.value.path, info.value.attempts, info.value.status) == ("GET", POINTS, 4, 503)
    assert len(server.requests) == 4 and len(warnings) == 3


def test_retries_exhausted_on_transport_error(make):
    server = Server(default=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server, retries=2).delete_point("abc")
    assert str(info.value) == ("DELETE /api/v1/retail-point/abc failed after 3 attempts: "
                               "ConnectError: [Errno 111] Connection refused")


def test_retries_exhausted_includes_server_code(make):
    server = Server(default=err(429, "rate-limited"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server, retries=1).list_points()
    assert str(info.value) == "GET /api/v1/retail-points failed after 2 attempts: HTTP 429 Too Many Requests (rate-limited)"
    assert info.value.code == "rate-limited"


def test_certificate_failure_is_not_retried(make, sleeps):
    def handler(request):
        try:
            raise ssl.SSLCertVerificationError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
        except ssl.SSLError as cause:
            raise httpx.ConnectError(str(cause)) from cause

    server = Server(default=handler)
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server).list_points()
    assert len(server.requests) == 1 and not sleeps
    assert "ca_path" in str(info.value)


# -- errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status,cls,code", [
    (400, errors.CabinetValidationError, "inn-checksum"),
    (422, errors.CabinetValidationError, "name-required"),
    (401, errors.CabinetAuthError, "unauthorized"),
    (403, errors.CabinetAuthError, "forbidden"),
    (404, errors.CabinetNotFound, "retail-point-not-found"),
    (409, errors.CabinetConflict, "retail-point-already-exists"),
    (405, errors.CabinetError, "method-not-allowed"),
    (501, errors.CabinetUnavailable, "not-implemented"),
])
def test_status_maps_to_error_type_with_machine_code(make, sleeps, status, cls, code):
    server = Server(err(status, code))
    with pytest.raises(errors.CabinetError) as info:
        make(server).list_points()
    assert info.value.__class__ is cls  # exactly this class, not a subclass
    assert (info.value.status, info.value.code, info.value.method, info.value.path) == (status, code, "GET", POINTS)
    assert code in str(info.value) and str(status) in str(info.value)
    assert len(server.requests) == 1 and not sleeps  # none of these is retried


def test_validation_error_message_and_fields(make):
    server = Server(err(400, "inn-checksum", body_extra={"errors": [{"field": "inn", "code": "inn-checksum"}]}))
    with pytest.raises(errors.CabinetValidationError) as info:
        make(server).create_point({"id": POINT["id"], "name": "Shop", "inn": "7707083890"})
    assert str(info.value) == "POST /api/v1/retail-points: the cabinet rejected the request (400 inn-checksum: inn)"
    assert info.value.code == "inn-checksum"
    assert info.value.errors == [{"field": "inn", "code": "inn-checksum"}]
    assert "7707083890" not in str(info.value)  # request bodies never enter messages


def test_401_is_not_retried_and_names_the_options(make, sleeps):
    server = Server(default=httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="modulkassa"'}))
    with pytest.raises(errors.CabinetAuthError) as info:
        make(server).list_points()
    assert len(server.requests) == 1 and not sleeps
    assert "cabinet_login" in str(info.value) and "HTTP 401 Unauthorized" in str(info.value)


def test_get_and_delete_not_found(make):
    server = Server(err(404, "retail-point-not-found"), err(404, "retail-point-not-found"))
    client = make(server)
    with pytest.raises(errors.CabinetNotFound, match="GET /api/v1/retail-point/nope: not found"):
        client.get_point("nope")
    with pytest.raises(errors.CabinetNotFound):
        client.delete_point("nope")


@pytest.mark.parametrize("answer", [httpx.Response(204), httpx.Response(200, json=POINT), httpx.Response(200, text="")])
def test_delete_point_accepts_204_and_200(make, answer):
    server = Server(answer)
    assert make(server).delete_point(POINT["id"]) is None
    assert server.requests[0].method == "DELETE"


def test_conflict_on_create(make):
    server = Server(err(409, "retail-point-already-exists"))
    with pytest.raises(errors.CabinetConflict) as info:
        make(server).create_point({"id": POINT["id"], "name": "Shop"})
    assert info.value.code == "retail-point-already-exists"


def test_redirect_is_an_error_pointing_at_cabinet_url(make):
    server = Server(httpx.Response(301, headers={"Location": "https://elsewhere.example/api/v1/retail-points"}))
    with pytest.raises(errors.CabinetError) as info:
        make(server).list_points()
    assert "cabinet_url" in str(info.value) and "elsewhere.example" in str(info.value)


def test_non_json_error_body_is_excerpted_and_bounded(make):
    page = "<html><head><title>404</title></head><body>" + "x" * 5000 + "</body></html>"
    server = Server(httpx.Response(404, text=page, headers={"Content-Type": "text/html"}))
    with pytest.raises(errors.CabinetNotFound) as info:
        make(server).get_point("abc")
    assert "HTTP 404 Not Found" in str(info.value)
    assert "<html>" in str(info.value) and len(str(info.value)) < 400


# -- protocol errors ------------------------------------------------------------------------------------


def test_html_instead_of_json(make):
    page = "<!DOCTYPE html><html><body>Login page " + "y" * 3000 + "</body></html>"
    server = Server(httpx.Response(200, text=page, headers={"Content-Type": "text/html; charset=utf-8"}))
    with pytest.raises(errors.CabinetProtocolError) as info:
        make(server).list_points()
    assert "HTML page" in str(info.value) and "HTTP 200" in str(info.value)
    assert len(str(info.value)) < 400


def test_truncated_json(make):
    server = Server(httpx.Response(200, content=b'[{"id": "a", "name": "Sho', headers={"Content-Type": "application/json"}))
    with pytest.raises(errors.CabinetProtocolError, match="truncated JSON"):
        make(server).list_points()


def test_object_where_array_expected_and_vice_versa(make):
    server = Server(ok({"items": []}), ok([POINT]), ok("just a string"))
    client = make(server)
    with pytest.raises(errors.CabinetProtocolError, match="expected a JSON array, got a JSON object"):
        client.list_points()
    with pytest.raises(errors.CabinetProtocolError, match="expected a JSON object, got a JSON array"):
        client.get_point("a")
    with pytest.raises(errors.CabinetProtocolError, match="got a JSON string"):
        client.update_point("a", {"name": "b"})


def test_2xx_with_error_body(make):
    server = Server(ok(spring(500, "internal-error")))
    with pytest.raises(errors.CabinetProtocolError) as info:
        make(server).get_point("a")
    assert info.value.code == "internal-error" and info.value.status == 200


def test_empty_answer_where_object_expected(make):
    server = Server(httpx.Response(204), httpx.Response(200))
    client = make(server)
    with pytest.raises(errors.CabinetProtocolError, match="empty answer"):
        client.get_point("a")
    with pytest.raises(errors.CabinetProtocolError, match="expected a JSON array, got an empty answer"):
        client.list_points()


# -- secrets --------------------------------------------------------------------------------------------

ACTIVATION_CODE = "ACT-9F3K-77QZ"


def echo_everything(status):
    """A careless server that echoes the credentials and an activation code in every place it can."""

    def handler(request):
        leak = "bad auth %s / %s / Authorization: %s / code %s" % (
            PASSWORD, request.headers["Authorization"], request.headers["Authorization"], ACTIVATION_CODE)
        return httpx.Response(status, json=spring(status, leak, errors=[{"field": "posLinkToken", "code": leak}]))

    return handler


@pytest.mark.parametrize("status", [400, 401, 404, 409, 418, 503])
def test_secrets_never_in_errors_or_warnings(make, warnings, status):
    server = Server(default=echo_everything(status))
    client = make(server)
    client.add_secret(ACTIVATION_CODE)
    with pytest.raises(errors.CabinetError) as info:
        client.update_point("abc", {"posLinkToken": ACTIVATION_CODE})
    texts = [str(info.value), repr(info.value), str(info.value.code), str(getattr(info.value, "errors", ""))] + warnings
    for text in texts:
        for secret in (PASSWORD, BASIC, ACTIVATION_CODE):
            assert secret not in text
    assert "********" in str(info.value)


def test_secrets_never_in_protocol_errors(make):
    leak = "<html>%s %s %s</html>" % (PASSWORD, BASIC, ACTIVATION_CODE)
    server = Server(httpx.Response(200, text=leak), ok(spring(500, "oops " + PASSWORD)))
    client = make(server)
    client.add_secret(ACTIVATION_CODE)
    for call in (client.list_points, lambda: client.get_point("a")):
        with pytest.raises(errors.CabinetProtocolError) as info:
            call()
        for secret in (PASSWORD, BASIC, ACTIVATION_CODE):
            assert secret not in str(info.value) and secret not in str(info.value.code)


def test_activation_codes_seen_in_answers_are_redacted_later(make):
    server = Server(ok(dict(POINT, posLinkToken="CODE-FROM-SERVER-1")), err(409, "code CODE-FROM-SERVER-1 in use"))
    client = make(server)
    assert client.get_point(POINT["id"])["posLinkToken"] == "CODE-FROM-SERVER-1"  # data itself is untouched
    with pytest.raises(errors.CabinetConflict) as info:
        client.update_point(POINT["id"], {"name": "x"})
    assert "CODE-FROM-SERVER-1" not in str(info.value)


def test_redact_patterns(make):
    client = make(Server())
    client.add_secret("s3cr3t/val ue")
    text = client.redact("see https://bob:hunter2@host.example/x and Authorization: Basic Zm9vOmJhcg== and s3cr3t%2Fval%20ue")
    assert text == "see https://host.example/x and Authorization: ******** and ********"
    assert client.redact(None) is None


@settings(max_examples=60, deadline=None)
@given(prefix=st.text(max_size=20), secret=st.text(alphabet=st.characters(blacklist_characters="*"), min_size=3, max_size=20),
       suffix=st.text(max_size=20))
@example(prefix="", secret="00\ud800", suffix="")  # a lone surrogate cannot be URL-encoded
def test_redact_removes_any_registered_secret(prefix, secret, suffix):
    client = CabinetClient(BASE, LOGIN, PASSWORD, transport=httpx.MockTransport(Server()))
    try:
        client.add_secret(secret)
        assert secret not in client.redact(prefix + secret + suffix + secret)
    finally:
        client.close()


def test_body_serialisation_error_does_not_echo_the_body(make):
    client = make(Server())
    with pytest.raises(errors.CabinetArgumentError) as info:
        client.update_point("a", {"secretish": "VISIBLE-MARKER", "bad": {1, 2}})
    assert "VISIBLE-MARKER" not in str(info.value)


# -- paths, arguments, stats, threads -------------------------------------------------------------------


def test_path_ids_are_url_quoted(make):
    server = Server(ok(POINT), ok(POINT), httpx.Response(204))
    client = make(server)
    client.get_point("a/b c?d")
    client.update_point("../x", {"name": "n"})
    client.delete_point("%2F")
    paths = [request.url.raw_path.decode() for request in server.requests]
    assert paths == ["/api/v1/retail-point/a%2Fb%20c%3Fd", "/api/v1/retail-point/..%2Fx", "/api/v1/retail-point/%252F"]


def test_argument_errors_send_nothing(make):
    server = Server()
    client = make(server)
    for call in (lambda: client.create_point({"name": "no id"}), lambda: client.create_point({"id": ""}),
                 lambda: client.get_point(""), lambda: client.get_point(None),
                 lambda: client.update_point("a", ["not", "a", "dict"])):
        with pytest.raises(errors.CabinetArgumentError):
            call()
    assert server.requests == []


def test_each_call_sends_its_method_and_retries_once_per_retryable_answer(make, sleeps):
    server = Server(ok([]), err(503, "x"), ok(POINT), ok(POINT), httpx.Response(204))
    client = make(server)
    client.list_points()
    client.get_point("a")
    client.update_point("a", {"name": "b"})
    client.delete_point("a")
    assert [request.method for request in server.requests] == ["GET", "GET", "GET", "PUT", "DELETE"]
    assert len(sleeps) == 1


def test_thread_safety_smoke(make):
    flaky = {"n": 0}
    lock = threading.Lock()

    def handler(request):
        with lock:
            flaky["n"] += 1
            fail = flaky["n"] % 10 == 0
        if fail:
            return err(503, "busy")
        return ok(dict(POINT, id=request.url.path.rsplit("/", 1)[-1]))

    server = Server(default=handler)
    client = make(server, random=lambda: 0.0)
    ids = ["p%03d-%02d" % (t, i) for t in range(8) for i in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(client.get_point, ids))
    assert [point["id"] for point in results] == ids
    # Every 10th answer was a 503, retried once: 400 requests plus one per 503 reached the server, nothing else.
    assert len(server.requests) == flaky["n"] == 400 + flaky["n"] // 10
    assert set(request.method for request in server.requests) == {"GET"}


@pytest.mark.parametrize("value,expected", [("5", 5.0), (" 0 ", 0.0), ("1.5", 1.5), ("-1", None), ("soon", None),
                                            ("", None), (None, None), ("nan", None)])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_date_in_the_past_is_zero():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after(formatdate(1000060, usegmt=True), now=1000000) == pytest.approx(60.0)


def test_not_retried_messages_say_why(make):
    server = Server(err(503, "busy"), httpx.ConnectError("[Errno 111] Connection refused"))
    client = make(server)
    with pytest.raises(errors.CabinetUnavailable, match="not retried: a GET request is not safe to repeat"):
        client._call("GET", POINTS, expect=list, retry_safe=False)
    with pytest.raises(errors.CabinetUnavailable) as info:
        client._call("POST", POINTS, body={"name": "x"}, expect=dict)
    assert "may have been applied" not in str(info.value)  # a refused connection sent nothing
    assert len(server.requests) == 2


def test_timeout_cause_names_the_timeout(make):
    server = Server(httpx.ReadTimeout("timed out"))
    with pytest.raises(errors.CabinetUnavailable) as info:
        make(server, retries=0, timeout=12.5).list_points()
    assert str(info.value) == "GET /api/v1/retail-points failed after 1 attempt: ReadTimeout: timed out (timeout 12.5 s)"


# ---- the write guard: a run that must stop sends no new write ----------------------------------------------------

def test_write_guard_refuses_writes_before_sending_and_lets_reads_and_cleanup_through(make):
    reason = []
    server = Server(default=ok(POINT))
    client = make(server, write_guard=lambda: reason[0] if reason else None)
    client.update_point(POINT["id"], {"name": "x"})
    reason.append("the controller is gone")
    for write in (lambda: client.update_point(POINT["id"], {"name": "y"}),
                  lambda: client.create_point({"id": POINT["id"], "name": "y"}),
                  lambda: client.delete_point(POINT["id"])):
        with pytest.raises(errors.WritesStopped, match="not sent: the controller is gone"):
            write()
    client.get_point(POINT["id"])
    client.update_point(POINT["id"], {"posLinkToken": None}, cleanup=True)
    assert [r.method for r in server.requests] == ["PUT", "GET", "PUT"]


def test_write_guard_is_asked_before_every_retry(make, sleeps):
    answers = iter([None, "stop"])  # the first attempt may go; before its retry the run must stop
    server = Server(ok(spring(503, "busy"), status=503), default=ok(POINT))
    client = make(server, write_guard=lambda: next(answers))
    with pytest.raises(errors.WritesStopped) as caught:
        client.update_point(POINT["id"], {"name": "x"})
    assert isinstance(caught.value, errors.CabinetError)
    assert len(server.requests) == 1, "the retry after the 503 was sent although the guard said stop"


# ---- built from options: the one builder of the action base, the inventory plugin and the event source ----------

def test_client_from_options_applies_the_defaults_of_unset_options(httpx_clients):
    seen = httpx_clients
    options = dict((name, None) for name in cc.CLIENT_OPTIONS)
    options.update(cabinet_url=BASE + "/", cabinet_login=LOGIN, cabinet_password=PASSWORD)
    with cc.client_from_options(options) as client:
        assert client.base_url == BASE
        assert PASSWORD not in client.redact("x %s y" % PASSWORD)
    assert seen[0]["timeout"] == httpx.Timeout(cc.DEFAULT_TIMEOUT)
    assert isinstance(seen[0]["verify"], ssl.SSLContext)
    with pytest.raises(errors.CabinetArgumentError, match="retries"):
        cc.client_from_options(dict(options, retries=-1))
