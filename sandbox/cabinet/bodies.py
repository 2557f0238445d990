"""Reading request bodies.

Endpoints parse JSON themselves instead of declaring pydantic body models: the emulator must answer
with the cabinet's own codes (``malformed-json``, ``inn-checksum``), not FastAPI's 422, and skipping
model validation keeps the per-request cost low. The OpenAPI document still describes the bodies.
"""

from __future__ import annotations

from starlette.requests import Request

from sandbox.cabinet.errors import ApiError
from sandbox.cabinet.jsonutil import loads_strict


async def read_json_object(request: Request) -> dict:
    raw = await request.body()
    try:
        value = loads_strict(raw)
    except ValueError:  # also UnicodeDecodeError
        raise ApiError(400, "malformed-json") from None
    if not isinstance(value, dict):
        raise ApiError(400, "body-not-object")
    return value
