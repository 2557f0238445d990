"""The OpenAPI description. Documentation only: no model here validates or serialises a request.

Endpoints take raw JSON (see ``bodies.py``); these pydantic models exist so ``/openapi.json`` and
``/docs`` describe the bodies, the error shape and the auth schemes.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field, RootModel

TaxMode = Literal["COMMON", "SIMPLIFIED", "SIMPLIFIED_WITH_EXPENSE", "ENVD", "COMMON_AGRICULTURAL", "PATENT"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class EgaisSettings(_Open):
    kpp: Optional[str] = Field(None, description="9 characters: 4 digits, 2 digits or A-Z, 3 digits; "
                                                  "required when the INN has 10 digits, empty when it has 12")


class Settings(_Open):
    defaultTaxMode: Optional[TaxMode] = None
    defaultVatTag: Optional[int] = Field(
        None, ge=1102, le=1114, description="1102 20%, 1103 10%, 1104 0%, 1105 no VAT, 1106 20/120, 1107 10/110, "
                                             "1109 5%, 1110 7%, 1111 5/105, 1112 7/107, 1113 22%, 1114 22/122")
    fiscalServiceEnabled: Optional[bool] = None
    egaisSettings: Optional[EgaisSettings] = None


class KkmInfo(BaseModel):
    serialNumber: str
    model: Optional[str] = None
    appVersion: Optional[str] = None
    activatedAt: str


class PointInput(_Open):
    """A point to create, or a partial update (objects are merged key by key)."""

    id: Optional[str] = Field(None, description="UUID chosen by the client (create only); generated if absent")
    name: Optional[str] = Field(None, max_length=255, description="required on create")
    address: Optional[str] = None
    phone: Optional[str] = Field(None, description="10 digits, without +7")
    inn: Optional[str] = Field(None, description="10 or 12 digits with a valid checksum")
    settings: Optional[Settings] = None
    posLinkToken: Optional[str] = Field(None, description="a string issues this activation code; null withdraws it")
    registrationRequestStatus: Optional[str] = None


class Point(_Open):
    id: str
    name: str
    address: Optional[str] = None
    phone: Optional[str] = None
    inn: Optional[str] = None
    settings: Settings
    posLinkToken: Optional[str] = None
    kktStatus: str = Field(description="KKT_NOT_PLUGGED, or REGISTERED once a register holds the point")
    registrationRequestStatus: str
    kkmInfo: Optional[KkmInfo] = None


class PointList(RootModel[list[Point]]):
    pass


class FieldError(BaseModel):
    field: str
    code: str


class ErrorBody(BaseModel):
    timestamp: str
    status: int
    error: str
    message: str = Field(description="machine code, e.g. inn-checksum, retail-point-not-found")
    path: str
    errors: Optional[list[FieldError]] = None


class ActivationRequest(BaseModel):
    code: str
    serial: str
    model: Optional[str] = None
    appVersion: Optional[str] = None


class RetailPointInfo(BaseModel):
    id: str
    name: str
    address: Optional[str] = None
    inn: Optional[str] = None


class Credentials(BaseModel):
    login: str
    password: str


class ActivationResponse(BaseModel):
    retailPoint: RetailPointInfo
    credentials: Credentials


class Binding(BaseModel):
    retailPointId: str
    name: Optional[str] = None
    since: str


class BindingList(RootModel[list[Binding]]):
    pass


class Health(BaseModel):
    status: Literal["ok"]


class Counters(RootModel[dict[str, dict[str, int]]]):
    pass


class Knobs(BaseModel):
    latency_ms: float = 0
    latency_jitter_ms: float = 0
    p_429: float = 0
    retry_after_s: int = 1
    p_5xx: float = 0
    p_drop_before: float = 0
    p_drop_after: float = 0
    fault_methods: Optional[list[str]] = Field(None, description="null = every method")
    seed: Optional[int | str] = None
    code_ttl_s: Optional[float] = Field(900, description="null = codes never expire")
    max_code_attempts: int = Field(5, description="0 = no limit")


class KnobsInput(Knobs):
    """Any subset of the knobs."""


KktStatus = Literal["KKT_NOT_PLUGGED", "POS_VERSION_OUTDATED", "KKT_NOT_ENABLED_FOR_FZ54", "FN_NOT_PLUGGED",
                    "NOT_REGISTERED", "REGISTERED"]
RegistrationStatus = Literal[
    "NOT_EXISTS", "DRAFT", "STARTED", "OFD_WAIT_DECL_SIGN", "DECL_SIGNING", "OFD_WAIT_IRUD", "OFD_WAIT_RNM",
    "OFD_WAIT_REPORT", "REPORT_PRINT_REQUESTED", "REPORT_PRINTED", "REPORT_PRINT_ERROR", "OFD_WAIT_REPORT_SIGN",
    "REPORT_SIGNING", "OFD_WAIT_FOR_FINAL_RESPONSE", "REGISTERED", "ERROR"]


class HealthInput(BaseModel):
    """One or both; any other key is refused."""

    model_config = ConfigDict(extra="forbid")

    kktStatus: Optional[KktStatus] = Field(
        None, description="only KKT_NOT_PLUGGED on a point no register holds, any other value on one a register holds")
    registrationRequestStatus: Optional[RegistrationStatus] = None


REQUEST_MODELS = (PointInput, ActivationRequest, KnobsInput, HealthInput)

CABINET_AUTH: dict[str, Any] = {"security": [{"cabinetBasic": []}]}
DEVICE_AUTH: dict[str, Any] = {"security": [{"deviceBasic": []}]}

_DESCRIPTIONS = {200: "OK", 204: "No Content", 400: "Validation failed", 401: "Missing or wrong credentials",
                 404: "Not found", 409: "Conflict", 410: "Gone", 429: "Too many requests"}


def responses(ok_status: int, ok_model, *error_statuses: int) -> dict:
    result: dict[int | str, dict] = {ok_status: {"description": _DESCRIPTIONS[ok_status]}}
    if ok_model is not None:
        result[ok_status]["model"] = ok_model
    for status in error_statuses:
        result[status] = {"description": _DESCRIPTIONS[status], "model": ErrorBody}
    return result


def with_body(model_name: str, extra: dict | None = None) -> dict:
    body = {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/%s" % model_name}}}}}
    return {**(extra or {}), **body}


def build_openapi(app) -> dict:
    """FastAPI's document plus the request-body schemas and the two Basic auth schemes."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in REQUEST_MODELS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(model_schema.pop("$defs", {}))
        schemas[model.__name__] = model_schema
    components["securitySchemes"] = {
        "cabinetBasic": {"type": "http", "scheme": "basic", "description": "cabinet account e-mail and password"},
        "deviceBasic": {"type": "http", "scheme": "basic",
                        "description": "device credentials returned by POST /api/device/v1/activate"},
    }
    app.openapi_schema = schema
    return schema
