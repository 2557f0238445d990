"""The cabinet's retail-point API: ``/api/v1/retail-points`` and ``/api/v1/retail-point/{id}``.

The account comes from the middleware (it checked Basic auth). Another account's point is answered
exactly like a missing one (404), but ids are global: creating an id that exists in any account is 409.
"""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.cabinet import openapi_docs as docs
from sandbox.cabinet.bodies import read_json_object
from sandbox.cabinet.db import Tx
from sandbox.cabinet.errors import ApiError, raw_json_response, validation_error
from sandbox.cabinet.jsonutil import dump_text
from sandbox.cabinet.state import ACCOUNT_KEY, EmulatorState
from sandbox.cabinet.validation import DELETABLE_STATUSES, canonical_uuid, point_problems, token_problem

TOKEN = "posLinkToken"
# Set by the server only (the register reports them); a client's values are ignored, as the cabinet does.
SERVER_MANAGED = frozenset(("id", "kktStatus", "kkmInfo", TOKEN))


def new_point(point_id: str, data: dict) -> dict:
    point = {"id": point_id, "name": None, "address": None, "phone": None, "inn": None, "settings": {},
             TOKEN: None, "kktStatus": "KKT_NOT_PLUGGED", "registrationRequestStatus": "NOT_EXISTS",
             "kkmInfo": None}
    return merge_point(point, data)


def deep_merge(base: dict, patch: dict) -> dict:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_point(point: dict, patch: dict) -> dict:
    """A partial update: top-level fields replace, objects (``settings``...) merge key by key."""
    merged = dict(point)
    for key, value in patch.items():
        if key in SERVER_MANAGED:
            continue
        if value is None and key in ("settings", "registrationRequestStatus"):
            continue  # these always have a value; null means "leave it"
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def check_point(point: dict, data: dict, update: bool = False) -> None:
    """400 unless ``point`` (a new point, or an update's merged result) is valid; ``data`` is the request body."""
    problems = point_problems(point, data if update else None)
    if TOKEN in data:
        code = token_problem(data[TOKEN])
        if code:
            problems.append((TOKEN, code))
    if problems:
        raise validation_error(problems)


def code_expired(issued_at: float | None, ttl_s: float | None, now: float) -> bool:
    return ttl_s is not None and issued_at is not None and now - issued_at > ttl_s


def claim_code(tx: Tx, point_id: str, code: str, ttl_s: float | None, now: float) -> None:
    """Make ``code`` free for ``point_id``: 409 if another point holds it live.

    Codes are global because a register redeems one by its value alone. An expired code can never be
    redeemed, so its holder gives it up (its ``posLinkToken`` becomes null).
    """
    holder = tx.point_by_code(code)
    if holder is None or holder[0] == point_id:
        return
    holder_id, _account, holder_body, issued_at = holder
    if not code_expired(issued_at, ttl_s, now):
        raise ApiError(409, "activation-code-conflict")
    body = json.loads(holder_body)
    body[TOKEN] = None
    tx.update_point(holder_id, dump_text(body), None, None)


def owned_row(tx: Tx, account: str, raw_id: str):
    point_id = canonical_uuid(raw_id)
    row = tx.point_row(point_id) if point_id else None
    if row is None or row[0] != account:
        raise ApiError(404, "retail-point-not-found")
    return point_id, row


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(tags=["retail points"])
    store = state.store

    def ttl() -> float | None:
        return state.faults.knobs["code_ttl_s"]

    @router.get("/api/v1/retail-points", summary="List the account's retail points",
                responses=docs.responses(200, docs.PointList, 401), openapi_extra=docs.CABINET_AUTH)
    async def list_points(request: Request) -> Response:
        with store.reading() as tx:
            bodies = tx.list_bodies(request.scope[ACCOUNT_KEY])
        # The stored text is the response text: no parse, no dump (10,000 points in a few ms).
        return raw_json_response(("[" + ",".join(bodies) + "]").encode("utf-8"))

    @router.post("/api/v1/retail-points", summary="Create a retail point (client-chosen id)",
                 responses=docs.responses(200, docs.Point, 400, 401, 409),
                 openapi_extra=docs.with_body("PointInput", docs.CABINET_AUTH))
    async def create_point(request: Request) -> Response:
        data = await read_json_object(request)
        if data.get("id") is None:
            point_id = str(uuid.uuid4())
        else:
            point_id = canonical_uuid(data["id"])
            if point_id is None:
                raise validation_error([("id", "id-format")])
        point = new_point(point_id, data)
        check_point(point, data)
        code = data.get(TOKEN)
        now = time.time()
        point[TOKEN] = code
        body = dump_text(point)
        with store.transaction() as tx:
            if tx.point_row(point_id) is not None:
                raise ApiError(409, "retail-point-already-exists")
            if code is not None:
                claim_code(tx, point_id, code, ttl(), now)
            tx.insert_point(point_id, request.scope[ACCOUNT_KEY], body, code, now if code else None)
        return raw_json_response(body.encode("utf-8"))

    @router.get("/api/v1/retail-point/{id}", summary="Read one retail point",
                responses=docs.responses(200, docs.Point, 401, 404), openapi_extra=docs.CABINET_AUTH)
    async def get_point(id: str, request: Request) -> Response:  # noqa: A002 - the path's own name
        with store.reading() as tx:
            _point_id, row = owned_row(tx, request.scope[ACCOUNT_KEY], id)
        return raw_json_response(row[1].encode("utf-8"))

    @router.put("/api/v1/retail-point/{id}", summary="Update a retail point (partial, deep-merged)",
                description="Setting posLinkToken to a string issues that activation code; null withdraws it.",
                responses=docs.responses(200, docs.Point, 400, 401, 404, 409),
                openapi_extra=docs.with_body("PointInput", docs.CABINET_AUTH))
    async def update_point(id: str, request: Request) -> Response:  # noqa: A002
        data = await read_json_object(request)
        now = time.time()
        with store.transaction() as tx:
            point_id, (_account, current_body, code, issued_at) = owned_row(tx, request.scope[ACCOUNT_KEY], id)
            point = merge_point(json.loads(current_body), data)
            check_point(point, data, update=True)
            if TOKEN in data:
                # Every PUT of a code (re)issues it with a fresh issue time; null withdraws it.
                code = data[TOKEN]
                issued_at = now if code is not None else None
                if code is not None:
                    claim_code(tx, point_id, code, ttl(), now)
                point[TOKEN] = code
            body = dump_text(point)
            tx.update_point(point_id, body, code, issued_at)
        return raw_json_response(body.encode("utf-8"))

    @router.delete("/api/v1/retail-point/{id}", status_code=204, summary="Delete a retail point",
                   responses=docs.responses(204, None, 401, 404, 409), openapi_extra=docs.CABINET_AUTH)
    async def delete_point(id: str, request: Request) -> Response:  # noqa: A002
        with store.transaction() as tx:
            point_id, row = owned_row(tx, request.scope[ACCOUNT_KEY], id)
            status = json.loads(row[1]).get("registrationRequestStatus") or "NOT_EXISTS"
            if status not in DELETABLE_STATUSES:
                raise ApiError(409, "retail-point-delete-forbidden")
            tx.delete_point(point_id)  # also its binding; its live code goes with the row
        return Response(status_code=204)

    return router
