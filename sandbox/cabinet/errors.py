"""Error bodies and JSON responses.

Every 4xx/5xx the emulator sends, whoever produces it (an endpoint, the router's 404/405, the fault
injector, the auth check), has the Spring-like shape the cabinet clients expect:
``{"timestamp", "status", "error", "message", "path"}`` plus ``errors`` for validation failures.
``message`` is a machine code (``inn-checksum``), never prose, so clients can branch on it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus

from starlette.responses import Response

from sandbox.cabinet.jsonutil import dumps

JSON_TYPE = "application/json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def json_response(value, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(value), status_code=status, headers=headers, media_type=JSON_TYPE)


def raw_json_response(body: bytes, status: int = 200) -> Response:
    """A response from JSON that is already serialised (points are stored as JSON text)."""
    return Response(body, status_code=status, media_type=JSON_TYPE)


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_body(status: int, code: str, path: str, errors: list | None = None) -> dict:
    body = {"timestamp": now_iso(), "status": status, "error": reason(status), "message": code, "path": path}
    if errors:
        body["errors"] = errors
    return body


def error_response(status: int, code: str, path: str, errors: list | None = None,
                   headers: dict | None = None) -> Response:
    return json_response(error_body(status, code, path, errors), status, headers)


class ApiError(Exception):
    """Raised by endpoints; the app's exception handler renders it as an error body."""

    def __init__(self, status: int, code: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(code)
        self.status = status
        self.code = code
        self.errors = errors
        self.headers = headers


def validation_error(problems: list[tuple[str, str]]) -> ApiError:
    """400 whose ``message`` is the first problem's code and ``errors`` lists them all."""
    return ApiError(400, problems[0][1], [{"field": field, "code": code} for field, code in problems])


# Codes for the errors the framework itself produces (unknown route, wrong method, ...).
STATUS_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "request-invalid",
    429: "too-many-requests",
    500: "internal-error",
    502: "bad-gateway",
    503: "service-unavailable",
    504: "gateway-timeout",
}


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status, "error")
