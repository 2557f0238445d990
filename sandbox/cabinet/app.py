"""The ASGI application: FastAPI routers, error handlers, the emulator middleware."""

from __future__ import annotations

import functools
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from sandbox.cabinet import device, emu, points
from sandbox.cabinet.config import EmulatorConfig
from sandbox.cabinet.counters import Counters
from sandbox.cabinet.db import Store
from sandbox.cabinet.errors import ApiError, code_for_status, error_response
from sandbox.cabinet.knobs import Faults, merge_knobs
from sandbox.cabinet.middleware import EmulatorMiddleware, RouteTemplates
from sandbox.cabinet.openapi_docs import build_openapi
from sandbox.cabinet.state import EmulatorState

DB_NAME = "cabinet.sqlite3"
VERSION = "1.0.0"
DESCRIPTION = (
    "Sandbox emulator of the ModulKassa cabinet API. `/api/v1/...` follows the real paths and fields; "
    "`/api/device/v1/...` (register activation) and `/api/_emu/...` (knobs, counters) are ours.")

log = logging.getLogger("sandbox.cabinet")


def _install_error_handlers(app: FastAPI) -> None:
    """Every error, including the framework's own 404/405/422/500, gets the cabinet's error body."""

    async def api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, request.url.path, exc.errors, exc.headers)

    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, code_for_status(exc.status_code), request.url.path,
                              headers=getattr(exc, "headers", None))

    async def request_invalid(request: Request, exc: RequestValidationError):
        errors = [{"field": ".".join(str(part) for part in err.get("loc", ())[1:]) or "body",
                   "code": "request-invalid"} for err in exc.errors()]
        return error_response(400, "request-invalid", request.url.path, errors)

    async def internal_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal-error", request.url.path)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_invalid)
    app.add_exception_handler(Exception, internal_error)


def create_app(data_dir: Path, config: EmulatorConfig | None = None, knob_overrides: dict | None = None) -> FastAPI:
    config = config or EmulatorConfig()
    knobs = merge_knobs(config.knobs, knob_overrides or {})
    store = Store(Path(data_dir) / DB_NAME)
    state = EmulatorState(store=store, accounts=dict(config.accounts), configured_knobs=knobs,
                          faults=Faults(knobs), counters=Counters())

    @asynccontextmanager
    async def lifespan(_app):
        yield
        store.close()

    app = FastAPI(title="ModulKassa cabinet emulator", version=VERSION, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None, lifespan=lifespan)
    routers = [emu.build_router(state), points.build_router(state), device.build_router(state)]
    for router in routers:
        app.include_router(router)
    _install_error_handlers(app)
    # Templates from the routers themselves: FastAPI >= 0.16x keeps included routers as lazy wrappers
    # in app.routes, without the path patterns.
    templates = RouteTemplates([route for router in routers for route in router.routes])
    app.add_middleware(EmulatorMiddleware, state=state, templates=templates)
    app.openapi = functools.partial(build_openapi, app)
    app.state.emulator = state
    return app
