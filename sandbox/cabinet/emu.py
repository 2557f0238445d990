"""Emulator-only endpoints: ``/health`` and ``/api/_emu/*``. No auth (the sandbox listens on loopback),
no faults, not counted: a test must be able to read counters and change knobs whatever the knobs say."""

from __future__ import annotations

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.cabinet import openapi_docs as docs
from sandbox.cabinet.bodies import read_json_object
from sandbox.cabinet.errors import ApiError, json_response, raw_json_response, validation_error
from sandbox.cabinet.jsonutil import dump_text
from sandbox.cabinet.knobs import KnobError
from sandbox.cabinet.state import EmulatorState
from sandbox.cabinet.validation import KKT_NOT_PLUGGED, KKT_STATUSES, REGISTRATION_STATUSES, canonical_uuid

HEALTH_FIELDS = {"kktStatus": ("kkt-status-invalid", KKT_STATUSES),
                 "registrationRequestStatus": ("registration-request-status-invalid", REGISTRATION_STATUSES)}


def health_problems(data: dict) -> list[tuple[str, str]]:
    problems = [(key, "health-field-unknown") for key in data if key not in HEALTH_FIELDS]
    for key, (code, allowed) in HEALTH_FIELDS.items():
        if key in data and (not isinstance(data[key], str) or data[key] not in allowed):
            problems.append((key, code))
    if not problems and not data:
        problems.append(("body", "health-empty"))
    return problems


def build_router(state: EmulatorState) -> APIRouter:
    router = APIRouter(tags=["emulator"])

    @router.get("/health", summary="Liveness", responses=docs.responses(200, docs.Health))
    async def health() -> Response:
        return json_response({"status": "ok"})

    @router.get("/api/_emu/counters", summary="Request counters per login",
                responses=docs.responses(200, docs.Counters))
    async def get_counters() -> Response:
        return json_response(state.counters.snapshot())

    @router.delete("/api/_emu/counters", status_code=204, summary="Reset all counters")
    async def reset_counters() -> Response:
        state.counters.reset()
        return Response(status_code=204)

    @router.get("/api/_emu/knobs", summary="Current knobs", responses=docs.responses(200, docs.Knobs))
    async def get_knobs() -> Response:
        return json_response(state.faults.knobs)

    @router.put("/api/_emu/knobs", summary="Change knobs (partial object)",
                responses=docs.responses(200, docs.Knobs, 400), openapi_extra=docs.with_body("KnobsInput"))
    async def put_knobs(request: Request) -> Response:
        patch = await read_json_object(request)
        try:
            knobs = state.faults.update(patch)
        except KnobError as exc:
            raise ApiError(400, exc.code, [{"field": exc.knob, "code": exc.code}]) from None
        return json_response(knobs)

    @router.put("/api/_emu/retail-point/{id}/health",
                summary="Set what the cabinet reports about a point's register and its tax-office registration",
                description=(
                    "kktStatus describes the register holding the point (the device API binds and releases): "
                    "KKT_NOT_PLUGGED only where no register holds it, any other value only where one does "
                    "(409 retail-point-not-bound / retail-point-bound). registrationRequestStatus takes any value "
                    "of the cabinet's enum; it decides whether DELETE is allowed. Any account's point."),
                responses=docs.responses(200, docs.Point, 400, 404, 409), openapi_extra=docs.with_body("HealthInput"))
    async def put_health(id: str, request: Request) -> Response:  # noqa: A002 - the path's own name
        data = await read_json_object(request)
        problems = health_problems(data)
        if problems:
            raise validation_error(problems)
        point_id = canonical_uuid(id)
        with state.store.transaction() as tx:
            row = tx.point_row(point_id) if point_id else None
            if row is None:
                raise ApiError(404, "retail-point-not-found")
            point = json.loads(row[1])
            kkt_status = data.get("kktStatus")
            if kkt_status is not None:
                # The emulator keeps "active" (kktStatus != KKT_NOT_PLUGGED) and a binding to a serial together,
                # as the cabinet does: the status comes from the register that holds the point.
                bound = tx.binding(point_id) is not None
                if kkt_status != KKT_NOT_PLUGGED and not bound:
                    raise ApiError(409, "retail-point-not-bound", [{"field": "kktStatus", "code": "retail-point-not-bound"}])
                if kkt_status == KKT_NOT_PLUGGED and bound:
                    raise ApiError(409, "retail-point-bound", [{"field": "kktStatus", "code": "retail-point-bound"}])
                point["kktStatus"] = kkt_status
            if "registrationRequestStatus" in data:
                point["registrationRequestStatus"] = data["registrationRequestStatus"]
            body = dump_text(point)
            tx.set_body(point_id, body)
        return raw_json_response(body.encode("utf-8"))

    @router.post("/api/_emu/reset", status_code=204,
                 summary="Forget everything: points, codes, devices, bindings, counters; knobs back to config")
    async def reset() -> Response:
        with state.store.transaction() as tx:
            tx.wipe()
        state.counters.reset()
        state.attempts.reset()
        state.faults.replace(state.configured_knobs)
        return Response(status_code=204)

    return router
