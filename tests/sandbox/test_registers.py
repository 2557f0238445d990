"""Register hosts and the register agent, end to end: real sshd, real cabinet emulator, real SSH.

One cabinet and three registers per module (start-up about 1.5 s), shared by the tests. Each test makes
the points and bindings it needs, so the tests pass in any order and on any xdist worker (each worker
then starts its own cabinet and registers). Every agent call goes over SSH to the register's sshd, the
way the collection reaches a register, except where a test says otherwise.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AGENT = REPO / "sandbox" / "agent" / "modulkassa_agent.py"
REGISTER_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
DEMO = ("demo@example.com", "demo-password-1")
NAMES = ("reg01", "reg02", "reg03")

pytestmark = [
    pytest.mark.skipif(not os.access("/usr/sbin/sshd", os.X_OK), reason="needs OpenSSH sshd"),
    # The tests share one cabinet and three registers and run in order: keep them on one xdist worker.
    pytest.mark.xdist_group("sandbox-registers"),
]

# Every activation code and device password the module sees; no file or output may contain one.
SECRETS: set[str] = set()
OUTPUTS: list[str] = []


def sandbox_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sandbox", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError("sandbox %s: rc %d\n%s\n%s" % (" ".join(args), proc.returncode, proc.stdout,
                                                            proc.stderr))
    return proc


class Cabinet:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.url = None
        self.http = None

    def start(self, port: int = 0) -> None:
        self.url = sandbox_cli("cabinet", "start", "--data-dir", str(self.data_dir), "--port", str(port)
                               ).stdout.strip().splitlines()[-1]
        self.http = httpx.Client(base_url=self.url, auth=DEMO, timeout=10)

    def stop(self) -> None:
        if self.http is not None:
            self.http.close()
        sandbox_cli("cabinet", "stop", "--data-dir", str(self.data_dir), check=False)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def knobs(self, **values) -> None:
        self.http.put("/api/_emu/knobs", json=values).raise_for_status()

    def new_point(self, label: str) -> str:
        point_id = str(uuid.uuid4())
        answer = self.http.post("/api/v1/retail-points", json={"id": point_id, "name": "%s %s" % (label, point_id[:8])})
        answer.raise_for_status()
        return point_id

    def issue_code(self, point_id: str, code: str | None = None) -> str:
        code = code or "%08d" % secrets.randbelow(10 ** 8)
        SECRETS.add(code)
        self.http.put("/api/v1/retail-point/%s" % point_id, json={"posLinkToken": code}).raise_for_status()
        return code

    def point(self, point_id: str) -> dict:
        answer = self.http.get("/api/v1/retail-point/%s" % point_id)
        answer.raise_for_status()
        return answer.json()


class Registers:
    def __init__(self, data_dir: Path, inventory: Path):
        self.data_dir = data_dir
        self.inventory_path = inventory
        self.summary = None
        # A short path: a unix socket path must stay under about 100 bytes.
        self.control_dir = tempfile.mkdtemp(prefix="mkreg-cm-")

    def close_masters(self) -> None:
        for socket_path in Path(self.control_dir).iterdir():
            subprocess.run(["ssh", "-o", "ControlPath=%s" % socket_path, "-O", "exit", "x"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        shutil.rmtree(self.control_dir, ignore_errors=True)

    def start(self, *extra: str) -> dict:
        self.summary = json.loads(sandbox_cli("registers", "start", "--data-dir", str(self.data_dir),
                                              *extra).stdout)
        return self.summary

    def stop(self, *extra: str) -> dict:
        return json.loads(sandbox_cli("registers", "stop", "--data-dir", str(self.data_dir), *extra).stdout)

    def status(self) -> dict:
        return json.loads(sandbox_cli("registers", "status", "--data-dir", str(self.data_dir)).stdout)

    def hosts(self) -> dict:
        return yaml.safe_load(self.inventory_path.read_text())["all"]["children"]["registers"]["hosts"]

    def home(self, name: str) -> Path:
        return self.data_dir / "registers" / name / "home"

    def ssh(self, name: str, remote: str, stdin: str | None = None, timeout: float = 30, mux: bool = True):
        """``remote`` on register ``name``. ``mux``: reuse a ControlPersist master per register, as Ansible
        does (a new SSH login as root costs about 0.3 s here; a multiplexed session much less)."""
        host = self.hosts()[name]
        cmd = ["ssh", "-F", "/dev/null", "-i", host["ansible_ssh_private_key_file"], "-p", str(host["ansible_port"]),
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", *shlex.split(host["ansible_ssh_common_args"])]
        if mux:
            cmd += ["-o", "ControlMaster=auto", "-o", "ControlPersist=20", "-o",
                    "ControlPath=%s/%%C" % self.control_dir]
        else:
            cmd += ["-o", "ControlMaster=no", "-o", "ControlPath=none"]
        cmd += ["%s@%s" % (host["ansible_user"], host["ansible_host"]), remote]
        if stdin is None:   # never let ssh read the terminal pytest was started from
            return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)

    def agent(self, name: str, *args: str, stdin: str | None = None) -> tuple[int, dict]:
        """Run the agent on register ``name`` over SSH: (exit code, the JSON it printed)."""
        wrapper = self.hosts()[name]["modulkassa_agent_path"]
        proc = self.ssh(name, " ".join(shlex.quote(a) for a in (wrapper, *args)), stdin=stdin)
        OUTPUTS.extend((proc.stdout, proc.stderr))
        assert proc.returncode != 255, "ssh to %s failed: %s" % (name, proc.stderr)
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == 1, "expected one JSON line, got %r (stderr %r)" % (proc.stdout, proc.stderr)
        return proc.returncode, json.loads(lines[0])

    def bind(self, name: str, cabinet: "Cabinet", label: str = "Bound") -> str:
        """A new point, activated on register ``name``: its id (``last_status``: the answer)."""
        point = cabinet.new_point(label)
        rc, doc = self.agent(name, "activate", stdin=cabinet.issue_code(point))
        assert rc == 0 and doc["synced"] is True, doc
        self.last_status = doc
        return point

    def bound(self, name: str) -> list[str]:
        rc, doc = self.agent(name, "status")
        assert rc == 0 and doc["synced"] is True, doc
        return [b["retailPointId"] for b in doc["bindings"]]


@pytest.fixture(scope="module")
def cabinet(tmp_path_factory):
    cab = Cabinet(tmp_path_factory.mktemp("cabinet"))
    cab.start()
    yield cab
    cab.stop()


@pytest.fixture(scope="module")
def regs(tmp_path_factory, cabinet):
    data_dir = tmp_path_factory.mktemp("sandbox")
    registers = Registers(data_dir, data_dir / "registers.generated.yml")
    began = time.monotonic()
    registers.first = registers.start("--count", "3", "--cabinet-url", cabinet.url,
                                      "--inventory", str(registers.inventory_path))
    registers.startup_s = time.monotonic() - began
    yield registers
    registers.close_masters()
    registers.stop()


@pytest.fixture(autouse=True)
def default_knobs(request):
    yield
    if "cabinet" in request.fixturenames:
        cab = request.getfixturevalue("cabinet")
        if cab.http is not None:
            cab.knobs(code_ttl_s=900, max_code_attempts=5)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----------------------------------------------------------------------------------------- hosts
def test_three_registers_start_and_accept_ssh(regs):
    assert regs.startup_s < 10
    assert [r["name"] for r in regs.first["registers"]] == list(NAMES)
    assert all(r["state"] == "started" for r in regs.first["registers"])
    ports = [r["port"] for r in regs.first["registers"]]
    assert len(set(ports)) == 3 and all(p >= 22201 for p in ports)
    status = regs.status()
    assert status["running"] == 3
    for name in NAMES:
        proc = regs.ssh(name, "id -un")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == regs.hosts()[name]["ansible_user"]


def test_inventory_has_what_a_playbook_needs(regs):
    hosts = regs.hosts()
    assert sorted(hosts) == list(NAMES)
    by_name = {r["name"]: r for r in regs.first["registers"]}
    for name, host in hosts.items():
        assert host["ansible_host"] == "127.0.0.1"
        assert host["ansible_port"] == by_name[name]["port"]
        assert host["ansible_user"] == regs.first["user"]
        assert Path(host["ansible_ssh_private_key_file"]).is_file()
        assert "StrictHostKeyChecking=no" in host["ansible_ssh_common_args"]
        assert host["ansible_python_interpreter"] == REGISTER_PYTHON
        assert host["modulkassa_register_serial"] == "SN-" + name.upper()
        wrapper = Path(host["modulkassa_agent_path"])
        assert wrapper.read_text().startswith("#!/bin/sh\n") and os.access(wrapper, os.X_OK)
        config = json.loads((regs.home(name) / "agent.json").read_text())
        assert config["serial"] == host["modulkassa_register_serial"]
        assert (regs.home(name) / "bin" / "modulkassa_agent.py").read_bytes() == AGENT.read_bytes()


def test_status_over_ssh_returns_the_serial(regs):
    for name in NAMES:
        rc, doc = regs.agent(name, "status")
        assert rc == 0
        bindings = doc.pop("bindings")
        assert doc == {"serial": "SN-" + name.upper(), "model": "MSPOS-K", "appVersion": "1.0.0", "synced": True}
        assert isinstance(bindings, list)
        assert all(set(b) == {"retailPointId", "name", "since"} for b in bindings)


# ------------------------------------------------------------------------------------ activation
def test_activate_reads_the_code_from_stdin_and_the_cabinet_shows_the_register(regs, cabinet):
    point = cabinet.new_point("Shop")
    code = cabinet.issue_code(point, "12345678")
    assert cabinet.point(point)["posLinkToken"] == code

    # Hold stdin open, so the agent is alive and waiting for the code while we read every command line.
    host = regs.hosts()["reg01"]
    wrapper = host["modulkassa_agent_path"]
    proc = subprocess.Popen(
        ["ssh", "-F", "/dev/null", "-i", host["ansible_ssh_private_key_file"], "-p", str(host["ansible_port"]),
         "-o", "BatchMode=yes", *shlex.split(host["ansible_ssh_common_args"]),
         "%s@127.0.0.1" % host["ansible_user"], shlex.quote(wrapper) + " activate"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        cmdlines = []
        while time.monotonic() < deadline:
            cmdlines = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    cmdlines.append(Path("/proc/%s/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode())
                except OSError:
                    pass
            if any("modulkassa_agent.py" in c and "activate" in c for c in cmdlines):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the agent never showed up in the process list")
        assert not [c for c in cmdlines if code in c], "the code is visible in a command line"
        out, err = proc.communicate(code + "\n", timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    OUTPUTS.extend((out, err))
    assert proc.returncode == 0, (out, err)
    doc = json.loads(out)
    assert doc["serial"] == "SN-REG01" and doc["synced"] is True
    assert doc["activated"]["retailPointId"] == point
    binding = [b for b in doc["bindings"] if b["retailPointId"] == point]
    assert len(binding) == 1 and binding[0]["since"] and binding[0]["name"].startswith("Shop")

    shown = cabinet.point(point)
    assert shown["kktStatus"] == "REGISTERED"
    assert shown["kkmInfo"]["serialNumber"] == "SN-REG01"
    assert shown["kkmInfo"]["model"] == "MSPOS-K" and shown["kkmInfo"]["appVersion"] == "1.0.0"
    assert shown["posLinkToken"] is None
    assert point in regs.bound("reg01")


def test_two_points_on_one_register(regs, cabinet):
    points = [cabinet.new_point("Twin"), cabinet.new_point("Twin")]
    for point in points:
        rc, doc = regs.agent("reg03", "activate", stdin=cabinet.issue_code(point))
        assert rc == 0, doc
    assert doc["synced"] is True   # the answer to activate is the reconciled status
    assert set(points) <= {b["retailPointId"] for b in doc["bindings"]}
    assert all(cabinet.point(p)["kkmInfo"]["serialNumber"] == "SN-REG03" for p in points)


def test_rebind_moves_a_point_to_another_register(regs, cabinet):
    point = regs.bind("reg01", cabinet, "Mover")
    rc, doc = regs.agent("reg02", "activate", stdin=cabinet.issue_code(point))
    assert rc == 0, doc
    assert cabinet.point(point)["kkmInfo"]["serialNumber"] == "SN-REG02"
    assert point in {b["retailPointId"] for b in doc["bindings"]}
    # reg01 still has the binding in its local state; its status asks the cabinet, the truth, and drops it.
    assert point in (regs.home("reg01") / "state.json").read_text()
    assert point not in regs.bound("reg01")
    assert point not in (regs.home("reg01") / "state.json").read_text()


def test_deactivate_releases_one_binding(regs, cabinet):
    point = regs.bind("reg02", cabinet, "Leaving")
    reg01_point = regs.bind("reg01", cabinet)
    rc, doc = regs.agent("reg02", "deactivate", "--retail-point", point)
    assert rc == 0, doc
    assert doc["deactivated"] == {"retailPointId": point}
    assert point not in [b["retailPointId"] for b in doc["bindings"]]
    shown = cabinet.point(point)
    assert shown["kktStatus"] == "KKT_NOT_PLUGGED" and shown["kkmInfo"] is None
    rc, doc = regs.agent("reg02", "deactivate", "--retail-point", point)
    assert (rc, doc["error"]) == (8, "not-bound")
    # A point bound elsewhere is not this register's to release.
    rc, doc = regs.agent("reg02", "deactivate", "--retail-point", reg01_point)
    assert (rc, doc["error"]) == (8, "not-bound")
    assert cabinet.point(reg01_point)["kkmInfo"]["serialNumber"] == "SN-REG01"


# ---------------------------------------------------------------------------------- refused codes
def test_wrong_code_is_exit_3_and_leaves_state_alone(regs, cabinet):
    point = regs.bind("reg01", cabinet)
    before = {f: (regs.home("reg01") / f).read_bytes() for f in ("state.json", "credentials.json")}
    wrong = "%08d" % secrets.randbelow(10 ** 8)
    SECRETS.add(wrong)
    rc, doc = regs.agent("reg01", "activate", stdin=wrong + "\n")
    assert (rc, doc["error"]) == (3, "activation-code-invalid")
    assert set(doc) == {"error", "message"} and wrong not in doc["message"]
    assert {f: (regs.home("reg01") / f).read_bytes() for f in before} == before
    assert cabinet.point(point)["kkmInfo"]["serialNumber"] == "SN-REG01"


def test_expired_code_is_exit_4(regs, cabinet):
    point = cabinet.new_point("Late")
    cabinet.knobs(code_ttl_s=0.2)
    code = cabinet.issue_code(point)
    time.sleep(0.4)
    rc, doc = regs.agent("reg02", "activate", stdin=code)
    assert (rc, doc["error"]) == (4, "activation-code-expired")
    assert cabinet.point(point)["kktStatus"] == "KKT_NOT_PLUGGED"


def test_used_code_is_exit_5(regs, cabinet):
    point = cabinet.new_point("Once")
    code = cabinet.issue_code(point)
    assert regs.agent("reg02", "activate", stdin=code)[0] == 0
    rc, doc = regs.agent("reg03", "activate", stdin=code)
    assert (rc, doc["error"]) == (5, "activation-code-used")
    assert cabinet.point(point)["kkmInfo"]["serialNumber"] == "SN-REG02"
    assert point not in regs.bound("reg03")


def test_too_many_wrong_codes_is_exit_6(regs, cabinet):
    cabinet.knobs(max_code_attempts=1)
    point = cabinet.new_point("Locked")
    SECRETS.add("00000001")
    rc, doc = regs.agent("reg02", "activate", stdin="00000001")
    assert rc == 3, doc
    good = cabinet.issue_code(point)
    rc, doc = regs.agent("reg02", "activate", stdin=good)   # even a good code waits out the lock
    assert (rc, doc["error"]) == (6, "activation-code-attempts-exceeded")
    cabinet.knobs(max_code_attempts=5)
    assert regs.agent("reg02", "activate", stdin=good)[0] == 0


def test_code_as_an_argument_or_missing_is_a_usage_error(regs, cabinet):
    point = cabinet.new_point("Argv")
    code = cabinet.issue_code(point)
    rc, doc = regs.agent("reg01", "activate", code)
    assert (rc, doc["error"]) == (2, "usage") and code not in doc["message"]
    rc, doc = regs.agent("reg01", "activate", "--code", code)
    assert (rc, doc["error"]) == (2, "usage") and code not in doc["message"]
    rc, doc = regs.agent("reg01", "activate", stdin="")
    assert (rc, doc["error"]) == (2, "usage")
    rc, doc = regs.agent("reg01", "deactivate")
    assert (rc, doc["error"]) == (2, "usage")
    assert cabinet.point(point)["posLinkToken"] == code   # none of that spent the code


def test_answers_lost_after_the_commit_are_recovered(regs, cabinet):
    """p_drop_after: the cabinet commits, then drops the connection. The agent repeats, the repeat is
    refused as used, and the agent finds its own redemption in the cabinet's bindings."""
    regs.bind("reg01", cabinet)   # the recovery compares the cabinet's bindings, so it needs credentials
    point = cabinet.new_point("Dropped")
    code = cabinet.issue_code(point)
    cabinet.knobs(p_drop_after=1.0, fault_methods=["POST", "DELETE"])
    try:
        rc, doc = regs.agent("reg01", "activate", stdin=code)
        assert rc == 0, doc
        assert doc["recovered"] is True and doc["activated"]["retailPointId"] == point
        rc, doc = regs.agent("reg01", "deactivate", "--retail-point", point)
        assert rc == 0, doc
    finally:
        cabinet.knobs(p_drop_after=0.0, fault_methods=None)
    assert cabinet.point(point)["kkmInfo"] is None
    assert point not in regs.bound("reg01")


# --------------------------------------------------------------------------- files and concurrency
def test_state_files_are_0600_and_hold_no_code(regs, cabinet):
    for name in NAMES:
        if not (regs.home(name) / "credentials.json").exists():
            regs.bind(name, cabinet)
    for name in NAMES:
        home = regs.home(name)
        for filename in ("state.json", "credentials.json"):
            path = home / filename
            assert file_mode(path) == 0o600, (path, oct(file_mode(path)))
        creds = json.loads((home / "credentials.json").read_text())
        assert set(creds) == {"login", "password"} and creds["password"]
        SECRETS.add(creds["password"])
        assert not [p for p in home.iterdir() if p.name.startswith(".")], "a temporary file was left behind"
    assert SECRETS
    for path in (regs.data_dir / "registers").rglob("*"):
        if path.is_file() and path.name != "credentials.json":
            text = path.read_bytes().decode("utf-8", "replace")
            assert not [s for s in SECRETS if s in text], path
    for output in OUTPUTS:
        assert not [s for s in SECRETS if s in output], output


def test_concurrent_agent_runs_keep_the_state_whole(regs, cabinet):
    """Eight statuses race one activation on reg03 (run locally, to make the race tight)."""
    before = regs.bound("reg03")
    point = cabinet.new_point("Race")
    code = cabinet.issue_code(point)
    env = dict(os.environ, MODULKASSA_AGENT_HOME=str(regs.home("reg03")))
    agent = [REGISTER_PYTHON, str(regs.home("reg03") / "bin" / "modulkassa_agent.py")]
    results = {}

    def run(key, args, stdin=None):
        results[key] = subprocess.run(agent + args, input=stdin, env=env, capture_output=True, text=True,
                                      timeout=60)

    threads = [threading.Thread(target=run, args=(i, ["status"])) for i in range(8)]
    threads.insert(4, threading.Thread(target=run, args=("activate", ["activate"], code)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results.values()), {k: r.stdout for k, r in results.items()}
    state = json.loads((regs.home("reg03") / "state.json").read_text())
    assert point in [b["retailPointId"] for b in state["bindings"]]
    assert sorted(b["retailPointId"] for b in state["bindings"]) == sorted(before + [point])
    assert point in regs.bound("reg03")


# ------------------------------------------------------------------------------------ cabinet down
def test_cabinet_down_activate_is_exit_7_and_status_falls_back(regs, cabinet):
    point = cabinet.new_point("Offline")
    code = cabinet.issue_code(point)
    regs.bind("reg03", cabinet)
    known = sorted(b["retailPointId"] for b in regs.last_status["bindings"])
    port = cabinet.port
    cabinet.stop()
    try:
        rc, doc = regs.agent("reg03", "status")
        assert rc == 0
        assert doc["synced"] is False and doc["syncError"]["error"] == "cabinet-unreachable"
        assert sorted(b["retailPointId"] for b in doc["bindings"]) == known
        rc, doc = regs.agent("reg03", "activate", stdin=code)
        assert (rc, doc["error"]) == (7, "cabinet-unreachable")
        assert code not in doc["message"]
        state = json.loads((regs.home("reg03") / "state.json").read_text())
        assert sorted(b["retailPointId"] for b in state["bindings"]) == known
    finally:
        cabinet.start(port)
    assert sorted(regs.bound("reg03")) == known
    assert regs.agent("reg03", "activate", stdin=code)[0] == 0


# ----------------------------------------------------------------------------------- stop / start
def test_stopping_one_register_leaves_the_others(regs, cabinet):
    regs.bind("reg02", cabinet)
    ports = {h: v["ansible_port"] for h, v in regs.hosts().items()}
    reg02_points = sorted(b["retailPointId"] for b in regs.last_status["bindings"])
    stopped = regs.stop("--only", "reg02")
    assert [(r["name"], r["state"]) for r in stopped["registers"]] == [("reg02", "stopped")]
    proc = regs.ssh("reg02", "true", timeout=15, mux=False)
    assert proc.returncode == 255
    for name in ("reg01", "reg03"):
        assert regs.ssh(name, "true", mux=False).returncode == 0
    assert {r["name"]: r["running"] for r in regs.status()["registers"]} == {
        "reg01": True, "reg02": False, "reg03": True}

    summary = regs.start()   # remembers count, cabinet URL and inventory
    assert {r["name"]: r["state"] for r in summary["registers"]} == {
        "reg01": "running", "reg02": "started", "reg03": "running"}
    assert {h: v["ansible_port"] for h, v in regs.hosts().items()} == ports
    assert sorted(regs.bound("reg02")) == reg02_points


def test_stop_ends_sessions_and_start_keeps_ports_and_bindings(regs, cabinet):
    regs.bind("reg01", cabinet)
    ports = {h: v["ansible_port"] for h, v in regs.hosts().items()}
    bound = {name: sorted(regs.bound(name)) for name in NAMES}
    # A session that outlives its listener is what a ControlPersist master leaves behind.
    host = regs.hosts()["reg01"]
    sleeper = subprocess.Popen(
        ["ssh", "-F", "/dev/null", "-i", host["ansible_ssh_private_key_file"], "-p", str(host["ansible_port"]),
         "-o", "BatchMode=yes", *shlex.split(host["ansible_ssh_common_args"]),
         "%s@127.0.0.1" % host["ansible_user"], "sleep 60"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        stopped = regs.stop()
        assert all(r["state"] == "stopped" for r in stopped["registers"])
        assert stopped["registers"][0]["sessionsEnded"] >= 1
        sleeper.wait(timeout=5)   # the server side of its connection is gone, so the client ends too
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
    assert regs.status()["running"] == 0
    for name in NAMES:
        assert regs.ssh(name, "true", timeout=15, mux=False).returncode == 255

    summary = regs.start()
    assert all(r["state"] == "started" for r in summary["registers"])
    assert {h: v["ansible_port"] for h, v in regs.hosts().items()} == ports
    assert {name: sorted(regs.bound(name)) for name in NAMES} == bound
