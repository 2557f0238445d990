"""Helpers shared by the cabinet emulator tests (importable because conftest puts this directory on
sys.path; the project runs pytest with --import-mode=importlib, where ``from conftest import`` fails)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]

DEMO = ("demo@example.com", "demo-password-1")
OTHER = ("other@example.com", "other-password-2")

INN10 = "7707083893"
INN12 = "500100732259"
KPP = "773601001"


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sandbox", "cabinet", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def start_server(data_dir: Path, *extra: str) -> str:
    result = run_cli("start", "--data-dir", str(data_dir), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def point_body(**fields) -> dict:
    body = {"id": str(uuid.uuid4()), "name": "Shop 1", "address": "Moscow, Tverskaya 1", "phone": "9123456789",
            "inn": INN10, "settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1105,
                                       "fiscalServiceEnabled": False, "egaisSettings": {"kpp": KPP}}}
    body.update(fields)
    return body


def create_point(client: httpx.Client, **fields) -> dict:
    response = client.post("/api/v1/retail-points", json=point_body(**fields))
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"timestamp", "status", "error", "message", "path"}
    assert body["status"] == status and body["message"] == code
    assert body["path"] == response.request.url.path
    if field is not None:
        assert {"field": field, "code": code} in body["errors"]
    return body
