"""The command line: start/stop/status idempotency, persistence across restarts, config, TLS, failures."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

from cabinet_helpers import DEMO, create_point, run_cli, start_server


def test_restart_keeps_state_and_start_stop_are_idempotent(tmp_path):
    config = tmp_path / "extra.json"
    config.write_text(json.dumps({"accounts": [{"login": "ops@example.com", "password": "ops-pw"}],
                                  "knobs": {"code_ttl_s": 60}}))
    data_dir = tmp_path / "data"
    url = start_server(data_dir, "--config", str(config))
    try:
        assert url.startswith("http://127.0.0.1:")
        assert start_server(data_dir) == url  # already running: same URL, no second server
        assert run_cli("status", "--data-dir", str(data_dir)).stdout.strip() == url
        with httpx.Client(base_url=url, auth=("ops@example.com", "ops-pw")) as ops:
            point = create_point(ops, name="Survivor")
            ops.put("/api/v1/retail-point/%s" % point["id"], json={"posLinkToken": "424242"})
        with httpx.Client(base_url=url) as emu:
            assert emu.get("/api/_emu/knobs").json()["code_ttl_s"] == 60
        stored = json.loads((data_dir / "config.json").read_text())
        assert {"login": "ops@example.com", "password": "ops-pw"} in stored["accounts"]
        assert {"login": DEMO[0], "password": DEMO[1]} in stored["accounts"]
    finally:
        assert run_cli("stop", "--data-dir", str(data_dir)).returncode == 0
    assert not (data_dir / "cabinet.pid").exists()
    assert run_cli("stop", "--data-dir", str(data_dir)).returncode == 0  # not running: fine
    assert run_cli("status", "--data-dir", str(data_dir)).returncode == 3

    url = start_server(data_dir)  # config.json from the first start is reused
    try:
        with httpx.Client(base_url=url, auth=("ops@example.com", "ops-pw")) as ops:
            points = ops.get("/api/v1/retail-points").json()
        assert [p["name"] for p in points] == ["Survivor"] and points[0]["posLinkToken"] == "424242"
        with httpx.Client(base_url=url) as emu:
            assert emu.post("/api/device/v1/activate", json={"code": "424242", "serial": "SN-1"}).status_code == 200
    finally:
        run_cli("stop", "--data-dir", str(data_dir))


def test_start_fails_with_the_log_tail(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"knobs": {"p_429": 7}}))
    result = run_cli("start", "--data-dir", str(tmp_path / "data"), "--config", str(config))
    assert result.returncode == 1 and result.stdout == ""
    assert "p_429" in result.stderr and "cabinet.log" in result.stderr
    assert not (tmp_path / "data" / "cabinet.pid").exists()


def test_knob_flags(tmp_path):
    data_dir = tmp_path / "data"
    url = start_server(data_dir, "--latency-ms", "3", "--fault-methods", "PUT,POST", "--max-code-attempts", "2")
    try:
        with httpx.Client(base_url=url) as emu:
            knobs = emu.get("/api/_emu/knobs").json()
        assert knobs["latency_ms"] == 3 and knobs["fault_methods"] == ["POST", "PUT"]
        assert knobs["max_code_attempts"] == 2
    finally:
        run_cli("stop", "--data-dir", str(data_dir))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    data_dir = tmp_path / "data"
    url = start_server(data_dir, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        assert url.startswith("https://127.0.0.1:")
        with httpx.Client(base_url=url, verify=False, auth=DEMO) as client:
            assert client.get("/api/v1/retail-points").json() == []
            client.put("/api/_emu/knobs", json={"p_drop_before": 1})
            with pytest.raises(httpx.TransportError):
                client.get("/api/v1/retail-points")
    finally:
        run_cli("stop", "--data-dir", str(data_dir))
