"""One real emulator (uvicorn, SQLite) per pytest process, started and stopped with the real CLI.

Tests share it and start clean: an autouse fixture calls ``POST /api/_emu/reset`` (data, counters,
knobs) before each test, which costs a millisecond where a new server would cost half a second.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for cabinet_helpers

from cabinet_helpers import DEMO, OTHER, run_cli, start_server  # noqa: E402


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cabinet")


@pytest.fixture(scope="session")
def base_url(data_dir):
    url = start_server(data_dir)
    yield url
    run_cli("stop", "--data-dir", str(data_dir))


class CabinetDb(object):
    """Writes to the emulator's SQLite behind the API: states the API refuses to create (a point stored
    without a KPP before the cabinet required one)."""

    def __init__(self, path):
        self.path = path

    def strip_kpp(self, point_id):
        with sqlite3.connect(str(self.path)) as db:
            body = json.loads(db.execute("SELECT body FROM points WHERE id = ?", (point_id,)).fetchone()[0])
            body["settings"].setdefault("egaisSettings", {})["kpp"] = None
            db.execute("UPDATE points SET body = ? WHERE id = ?", (json.dumps(body), point_id))


@pytest.fixture
def cabinet_db(base_url, data_dir):
    return CabinetDb(data_dir / "cabinet.sqlite3")


@pytest.fixture(scope="session")
def emu(base_url):
    """Unauthenticated client: /health, /openapi.json, /api/_emu/*, the device API."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _clean(request):
    if "base_url" in request.fixturenames or "emu" in request.fixturenames:
        emu = request.getfixturevalue("emu")
        assert emu.post("/api/_emu/reset").status_code == 204


@pytest.fixture(scope="session")
def demo(base_url):
    with httpx.Client(base_url=base_url, auth=DEMO, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def other(base_url):
    with httpx.Client(base_url=base_url, auth=OTHER, timeout=10) as client:
        yield client
