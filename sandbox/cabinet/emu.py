"""Emulator-only endpoints: ``/health`` and ``/api/_emu/*``. No auth (the sandbox listens on loopback),
no faults, not counted: a test must be able to read counters and change knobs whatever the knobs say."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.cabinet import openapi_docs as docs
from sandbox.cabinet.bodies import read_json_object
from sandbox.cabinet.errors import ApiError, json_response
from sandbox.cabinet.knobs import KnobError
from sandbox.cabinet.state import EmulatorState


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
