"""The outer layer of every API request: who is calling, count it, inject latency and faults.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware costs a task and a stream per request). Order:
1. skip ``/health``, ``/openapi.json``, ``/docs`` and ``/api/_emu/*`` entirely (no count, no fault);
2. authenticate (cabinet Basic for ``/api/v1``, device Basic for the device bindings);
3. count under the login (``<anonymous>`` if auth failed, ``<device>`` for the device API);
4. latency, then at most one of: drop before, 429, 5xx;
5. 401 if auth failed, else the app, then maybe drop after (the write has committed).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac

from sandbox.cabinet import knobs as faults_mod
from sandbox.cabinet.counters import ANONYMOUS, DEVICE
from sandbox.cabinet.errors import error_response
from sandbox.cabinet.state import ACCOUNT_KEY, SERIAL_KEY, EmulatorState
from sandbox.cabinet.transport import DROP_KEY

CABINET_PREFIX = "/api/v1/"
DEVICE_PREFIX = "/api/device/v1/"
DEVICE_AUTH_PREFIX = "/api/device/v1/bindings"
CABINET_CHALLENGE = {"WWW-Authenticate": 'Basic realm="modulkassa"'}
DEVICE_CHALLENGE = {"WWW-Authenticate": 'Basic realm="modulkassa-device"'}


def _is_exempt(path: str) -> bool:
    return (path == "/health" or path == "/openapi.json" or path.startswith("/docs")
            or path.startswith("/api/_emu/") or path == "/api/_emu")


class RouteTemplates:
    """Maps a request path to its route template, the key counters use (one key per endpoint)."""

    def __init__(self, routes):
        self._routes = [(route.path_regex, route.path) for route in routes
                        if getattr(route, "path_regex", None) is not None and not _is_exempt(route.path)]

    def template(self, path: str) -> str:
        for regex, template in self._routes:
            if regex.match(path):
                return template
        return path


def _basic_credentials(scope) -> tuple[str, str] | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, encoded = value.partition(b" ")
            if scheme.lower() != b"basic":
                return None
            try:
                login, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return (login, password) if sep else None
    return None


class EmulatorMiddleware:
    def __init__(self, app, state: EmulatorState, templates: RouteTemplates):
        self.app = app
        self.state = state
        self.templates = templates

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        state = self.state

        challenge = None
        if path.startswith(CABINET_PREFIX):
            login = self._cabinet_login(scope)
            if login is None:
                who, challenge = ANONYMOUS, CABINET_CHALLENGE
            else:
                who = scope[ACCOUNT_KEY] = login
        elif path.startswith(DEVICE_PREFIX):
            who = DEVICE
            if path.startswith(DEVICE_AUTH_PREFIX):
                serial = self._device_serial(scope)
                if serial is None:
                    challenge = DEVICE_CHALLENGE
                else:
                    scope[SERIAL_KEY] = serial
        else:
            who = ANONYMOUS
        state.counters.add(who, method + " " + self.templates.template(path))

        faults = state.faults
        delay = faults.latency_s()
        if delay > 0:
            await asyncio.sleep(delay)
        decision = faults.before(method)
        if decision == faults_mod.DROP_BEFORE:
            await self._drop(scope, send)
            return
        if decision == faults_mod.REPLY_429:
            await error_response(429, "rate-limited", path,
                                 headers={"Retry-After": str(faults.knobs["retry_after_s"])})(scope, receive, send)
            return
        if decision == faults_mod.REPLY_5XX:
            await error_response(faults.server_error_status(), "injected-fault", path)(scope, receive, send)
            return

        if challenge is not None:
            await error_response(401, "unauthorized", path, headers=challenge)(scope, receive, send)
            return
        if faults.drop_after(method):
            await self._run_then_drop(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _cabinet_login(self, scope) -> str | None:
        credentials = _basic_credentials(scope)
        if credentials is None:
            return None
        login = credentials[0].strip().lower()
        expected = self.state.accounts.get(login)
        if expected is None or not hmac.compare_digest(expected.encode(), credentials[1].encode()):
            return None
        return login

    def _device_serial(self, scope) -> str | None:
        credentials = _basic_credentials(scope)
        if credentials is None:
            return None
        with self.state.store.reading() as tx:
            row = tx.device_by_login(credentials[0])
        if row is None or not hmac.compare_digest(row[1].encode(), credentials[1].encode()):
            return None
        return row[0]

    async def _drop(self, scope, send) -> None:
        drop = scope.get(DROP_KEY)
        if drop is None:
            # Not under our uvicorn protocol (e.g. an in-process test transport): nothing to close.
            raise ConnectionAbortedError("sandbox: connection dropped by the p_drop_* knob")
        await drop()

    async def _run_then_drop(self, scope, receive, send) -> None:
        """Let the app finish (the write commits), then break the response off half way."""
        start = None
        chunks: list[bytes] = []

        async def hold(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, hold)
        body = b"".join(chunks)
        if start is not None and body:
            # Headers announce the full Content-Length; only half the body follows, then the
            # connection closes: the client sees an incomplete message, not a response it can use.
            await send(start)
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        await self._drop(scope, send)
