# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile server answers (issue 6): a tiny stdlib HTTP server on 127.0.0.1 answers the cabinet API with HTML,
truncated JSON, wrong types, a 200 carrying an error body, a redirect, garbage that is not HTTP, or nothing in
time. Every module gives a clear error naming the request: never a traceback, never a wrong "ok".

The first path segment of ``cabinet_url`` picks the behaviour (``http://127.0.0.1:P/html`` answers HTML), so
one server and one playbook run cover every case.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import dump, once_per_session, play  # noqa: E402

LEAKED_CODE = "HOSTILE-CODE-4417"
GOOD_POINT = {"id": "5b0e6c8a-0000-4000-8000-0000000000a1", "name": "Shop 1", "address": "x", "inn": None,
              "settings": {}, "posLinkToken": LEAKED_CODE, "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None}
ERROR_BODY = {"timestamp": "2026-11-24T07:00:00Z", "status": 500, "error": "Internal Server Error",
              "message": "database-down", "path": "/api/v1/retail-points"}
SLOW_S = 2.0
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]")


def _json(data):
    return 200, "application/json", json.dumps(data).encode()


# behaviour -> {method: (status, content type, body)} ("*": any method)
BEHAVIOURS = {
    "html": {"*": (200, "text/html; charset=utf-8", b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>")},
    "huge-html": {"*": (200, "text/html", b"<html>" + b"<p>maintenance</p>" * 120000 + b"</html>")},
    "truncated": {"*": (200, "application/json", b'[{"id": "5b0e6c8a-0000-4000-8000-000000000001", "name": "Sh')},
    "binary": {"*": (200, "application/json", b"\xff\xfe\x00\x01garbage\x00")},
    "empty": {"*": (200, "application/json", b"")},
    "object-not-list": {"*": _json({"items": [GOOD_POINT]})},
    "list-of-numbers": {"*": _json([1, 2, 3])},
    "point-without-id": {"*": _json([{"name": "Shop 1"}])},
    "id-a-number": {"*": _json([dict(GOOD_POINT, id=42)])},
    "name-a-list": {"*": _json([dict(GOOD_POINT, name=["Shop", 1])])},
    "error-body-200": {"*": _json(ERROR_BODY)},
    "create-answers-error-body": {"GET": _json([]), "*": _json(ERROR_BODY)},
    "create-answers-html": {"GET": _json([]), "*": (200, "text/html", b"<html>Login</html>")},
    "create-answers-a-list": {"GET": _json([]), "*": _json([])},
    "redirect": {"*": (302, "text/html", b"")},
    # Escape sequences in an answer must not reach the terminal or the CI log through the error's excerpt.
    "escapes": {"*": (200, "text/html", b"<html>\x1b[2J\x1b]0;pwned\x07\rok: [localhost]\x00</html>")},
    "error-with-escapes": {"*": (400, "application/json", json.dumps(
        {"status": 400, "error": "Bad Request", "message": "bad\u001b[31m", "errors": [{"field": "name\u001b[2J"}]}).encode())},
    "leaks-code": {"*": _json([GOOD_POINT])},
}


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        mode = self.path.strip("/").split("/")[0]
        if mode == "not-http":
            self.wfile.write(b"HELLO THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
            return
        if mode == "slow":
            time.sleep(SLOW_S)
            mode = "leaks-code"
        answers = BEHAVIOURS[mode]
        status, content_type, body = answers.get(self.command, answers["*"])
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 302:
            self.send_header("Location", "/login")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture(scope="module")
def hostile_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# (case, module, extra args, what the message must say). Every case fails; "leaks-code" is the one that succeeds.
CASES = [
    ("html", "retail_points", {}, "GET /api/v1/retail-points: expected a JSON answer, got an HTML page"),
    ("huge-html", "retail_point_info", {}, "got an HTML page"),
    ("truncated", "retail_points", {}, "invalid or truncated JSON"),
    ("binary", "retail_point", {"name": "Shop 1"}, "invalid or truncated JSON"),
    ("empty", "retail_point_info", {}, "got an empty answer"),
    ("object-not-list", "retail_points", {}, "expected a JSON array, got a JSON object"),
    ("list-of-numbers", "retail_point_info", {}, "not a retail point"),
    ("point-without-id", "retail_points", {}, "not a retail point"),
    ("id-a-number", "retail_point", {"name": "Shop 1"}, "not a retail point"),
    ("name-a-list", "retail_point_info", {}, "not a retail point"),
    ("error-body-200", "retail_point_info", {}, "answered HTTP 200 with an error body"),
    ("create-answers-error-body", "retail_points", {}, "POST /api/v1/retail-points: the cabinet answered HTTP 200 with an error body"),
    ("create-answers-html", "retail_point", {"name": "Shop 9"}, "POST /api/v1/retail-points: expected a JSON answer, got an HTML page"),
    ("create-answers-a-list", "retail_points", {}, "POST /api/v1/retail-points: expected a JSON object, got a JSON array"),
    ("redirect", "retail_points", {}, "unexpected redirect to /login"),
    ("escapes", "retail_point_info", {}, "got an HTML page"),
    ("error-with-escapes", "retail_point_info", {}, "the cabinet rejected the request (400 bad"),
    ("not-http", "retail_point_info", {}, "GET /api/v1/retail-points failed after 2 attempts"),
    ("slow", "retail_point_info", {"timeout": 0.5}, "ReadTimeout"),
    ("html", "register", {"retail_points": ["Shop 1"]}, "GET /api/v1/retail-points: expected a JSON answer, got an HTML page"),
]


def _case_name(case):
    return "%s via %s" % (case[0], case[1])


@pytest.fixture(scope="module")
def hostile_run(request, tmp_path_factory):
    return once_per_session(tmp_path_factory, "hostile-server", lambda: _run_hostile_playbook(request))


def _run_hostile_playbook(request):
    hostile_url, registers = request.getfixturevalue("hostile_url"), request.getfixturevalue("registers")
    run_playbook_once = request.getfixturevalue("run_playbook_once")
    tasks = []
    for mode, module, extra, dummy in CASES + [("leaks-code", "retail_point_info", {}, None)]:
        args = {"cabinet_url": "%s/%s" % (hostile_url, mode), "cabinet_login": "ops@example.com",
                "cabinet_password": "Hostile-Test-Password-1", "retries": 1, "timeout": 5}
        if module == "retail_points":
            args["points"] = [{"name": "Shop 1", "address": "x"}]
        if module == "register":
            args["agent_path"] = registers.hosts["reg02"]["modulkassa_agent_path"]  # the agent runs; the cabinet lies
        args.update(extra)
        tasks.append({"name": _case_name((mode, module)), "modulkassa.pos.%s" % module: args, "ignore_errors": True})
    return run_playbook_once(dump(play(tasks)), verbosity=3)


@pytest.fixture(scope="module")
def run_playbook_once(ansible_env, tmp_path_factory):
    import subprocess

    workdir = tmp_path_factory.mktemp("hostile")

    def run(playbook, verbosity=0):
        (workdir / "playbook.yml").write_text(playbook, encoding="utf-8")
        (workdir / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
        command = [sys.executable, "-m", "ansible.cli.playbook", "playbook.yml", "-i", "inventory.yml", "-" + "v" * verbosity]
        done = subprocess.run(command, cwd=workdir, env=dict(ansible_env, MK_TEST_RESULTS=str(workdir / "results.jsonl")),
                              capture_output=True, text=True, timeout=300, check=False)
        records = [json.loads(line) for line in (workdir / "results.jsonl").read_text(encoding="utf-8").split("\n") if line]
        return {"output": done.stdout + done.stderr,
                "tasks": dict((r["task"], r) for r in records if r.get("type") == "task")}

    return run


@pytest.mark.parametrize("case", CASES, ids=[_case_name(c) for c in CASES])
def test_hostile_answer_is_a_clear_error(hostile_run, case):
    record = hostile_run["tasks"][_case_name(case)]
    result = record["result"]
    assert record["status"] == "failed", "a hostile answer was taken as ok: %s" % result
    assert case[3] in result["msg"], result["msg"]
    assert "Traceback" not in result["msg"] and len(result["msg"]) < 1200
    assert not UNPRINTABLE.search(result["msg"]), "control characters from the answer: %r" % result["msg"]
    assert result.get("exception", "(traceback unavailable)") == "(traceback unavailable)"
    assert not result.get("changed"), "nothing can have changed"


def test_no_traceback_and_no_secret_anywhere(hostile_run):
    output = hostile_run["output"]
    assert "Traceback" not in output
    assert "Hostile-Test-Password-1" not in output
    assert LEAKED_CODE not in output + json.dumps(hostile_run["tasks"]), "an activation code from the answer was shown"
    info = hostile_run["tasks"]["leaks-code via retail_point_info"]["result"]
    assert info["points"][0]["activation"]["code_pending"] is True and "posLinkToken" not in info["points"][0]
