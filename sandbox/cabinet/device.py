"""The device API (ours: the real one is private): registers redeem activation codes and manage bindings.

Redeeming a code binds its point to the caller's serial: the point turns ``REGISTERED`` with a
``kkmInfo``, any previous register loses it, and the code is spent. The answer carries the serial's
device credentials (made at its first activation, stable afterwards), which the register then uses
with Basic auth for ``/api/device/v1/bindings``.
"""

from __future__ import annotations

import json
import secrets
import time

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.cabinet import openapi_docs as docs
from sandbox.cabinet.bodies import read_json_object
from sandbox.cabinet.db import Tx
from sandbox.cabinet.errors import ApiError, json_response, now_iso, validation_error
from sandbox.cabinet.jsonutil import dump_text
from sandbox.cabinet.points import TOKEN, code_expired
from sandbox.cabinet.state import SERIAL_KEY, EmulatorState
from sandbox.cabinet.validation import canonical_uuid

TEXT_MAX = 128


def _text_problem(data: dict, field: str, required: bool) -> tuple[str, str] | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX or not value.isprintable():
        return (field, "activation-request-invalid")
    return None


def check_request(data: dict) -> None:
    problems = [p for p in (_text_problem(data, "code", True), _text_problem(data, "serial", True),
                            _text_problem(data, "model", False), _text_problem(data, "appVersion", False)) if p]
    if problems:
        raise validation_error(problems)


def device_credentials(tx: Tx, serial: str) -> dict:
    row = tx.device(serial)
    if row is None:
        # Random, not derived from the serial: knowing a serial must not give its credentials.
        row = ("device-" + secrets.token_hex(6), secrets.token_urlsafe(18))
        tx.insert_device(serial, row[0], row[1], now_iso())
    return {"login": row[0], "password": row[1]}


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(tags=["device"])
    store = state.store

    @router.post("/api/device/v1/activate", summary="Redeem an activation code on a register",
                 description="No auth: the code is the credential.",
                 responses=docs.responses(200, docs.ActivationResponse, 400, 404, 409, 410, 429),
                 openapi_extra=docs.with_body("ActivationRequest"))
    async def activate(request: Request) -> Response:
        data = await read_json_object(request)
        check_request(data)
        code, serial = data["code"], data["serial"]
        knobs = state.faults.knobs
        wait_s = state.attempts.retry_after(serial, knobs["max_code_attempts"])
        if wait_s is not None:
            raise ApiError(429, "activation-code-attempts-exceeded", headers={"Retry-After": str(wait_s)})
        now = time.time()
        with store.transaction() as tx:
            holder = tx.point_by_code(code)
            if holder is None:
                if tx.spent_code(code) is not None:
                    raise ApiError(409, "activation-code-used")
                wrong = True
            else:
                wrong = False
                point_id, _account, body, issued_at = holder
                if code_expired(issued_at, knobs["code_ttl_s"], now):
                    raise ApiError(410, "activation-code-expired")
                since = now_iso()
                point = json.loads(body)
                point[TOKEN] = None
                point["kktStatus"] = "REGISTERED"
                point["kkmInfo"] = {"serialNumber": serial, "model": data.get("model"),
                                    "appVersion": data.get("appVersion"), "activatedAt": since}
                tx.update_point(point_id, dump_text(point), None, None)
                tx.set_binding(point_id, serial, since)  # the previous register, if any, loses it
                tx.mark_spent(code, point_id, serial, since)
                credentials = device_credentials(tx, serial)
        if wrong:
            state.attempts.record_wrong(serial)
            raise ApiError(404, "activation-code-invalid")
        return json_response({
            "retailPoint": {key: point.get(key) for key in ("id", "name", "address", "inn")},
            "credentials": credentials,
        })

    @router.get("/api/device/v1/bindings", summary="The points bound to the calling register",
                responses=docs.responses(200, docs.BindingList, 401), openapi_extra=docs.DEVICE_AUTH)
    async def list_bindings(request: Request) -> Response:
        with store.reading() as tx:
            rows = tx.bindings_of(request.scope[SERIAL_KEY])
        return json_response([{"retailPointId": point_id, "name": json.loads(body).get("name"), "since": since}
                              for point_id, since, body in rows])

    @router.delete("/api/device/v1/bindings/{retailPointId}", status_code=204,
                   summary="Release one binding of the calling register",
                   responses=docs.responses(204, None, 401, 404), openapi_extra=docs.DEVICE_AUTH)
    async def release_binding(retailPointId: str, request: Request) -> Response:  # noqa: N803 - path name
        point_id = canonical_uuid(retailPointId)
        with store.transaction() as tx:
            binding = tx.binding(point_id) if point_id else None
            if binding is None or binding[0] != request.scope[SERIAL_KEY]:
                raise ApiError(404, "binding-not-found")
            tx.delete_binding(point_id)
            row = tx.point_row(point_id)
            if row is not None:
                point = json.loads(row[1])
                point["kktStatus"] = "KKT_NOT_PLUGGED"
                point["kkmInfo"] = None
                tx.set_body(point_id, dump_text(point))
        return Response(status_code=204)

    return router
