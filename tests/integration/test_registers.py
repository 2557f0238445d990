# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registers over real SSH (one sshd per register), the real emulator, real ansible-playbook runs.

Covers: bind one and two points, rebind from one register to another, exclusive release, unbind, no-op
re-runs, check mode (no cabinet write, register state files untouched), an expired code, an unreachable
register among reachable ones, a run killed after issuing a code, a bind cut off between issuing and redeeming
(lost connection, task timeout) and one refused by the agent (no live code left, a result and a drift report that
tell what happened), and secrets absent from -vvvv output.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, by_host, create_points, env_for, holder_of, kill_tree, point, points_named  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN = os.path.join(REPO_ROOT, "tools", "modulkassa-plan")

# Register agents that take the code on stdin and never redeem it; for every other command they are the real agent.
# "cut": then it drops the SSH connection (kills the sshd process serving this exec), as a network cut would.
# "hang": then it hangs (longer than the task's timeout).
CUTTING_AGENTS = {
    "cut": """#!/bin/sh
if [ "$1" = activate ]; then
  cat >/dev/null
  pid=$$
  while [ "$pid" -gt 1 ]; do
    pid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
    case "$(cat "/proc/$pid/comm")" in sshd*) kill -9 "$pid"; exit 0;; esac
  done
  exit 1
fi
exec %s "$@"
""",
    "hang": """#!/bin/sh
if [ "$1" = activate ]; then cat >/dev/null; exec sleep 15; fi
exec %s "$@"
""",
}


def _create_points(cabinet, count, tag):
    names = ["%s point %d" % (tag, i) for i in range(count)]
    return names, create_points(cabinet, names)


def _bind_play(wanted, state="bound", exclusive=False, extra=None, task_extra=None):
    args = {"retail_points": "{{ wanted[inventory_hostname] }}", "state": state, "exclusive": exclusive}
    args.update(extra or {})
    task = {"name": "register", "modulkassa.pos.register": args, "when": "inventory_hostname in wanted"}
    task.update(task_extra or {})
    play = {"name": "bind", "hosts": "registers", "gather_facts": False, "tasks": [task]}
    return yaml.safe_dump([play], allow_unicode=True, sort_keys=False), {"wanted": wanted}


def _run(run_playbook, registers, cabinet, wanted, check=False, verbosity=0, **kwargs):
    playbook, extra_vars = _bind_play(wanted, **kwargs)
    return run_playbook(playbook, inventory=registers.inventory, extra_vars=extra_vars, check=check, diff=True,
                        env=env_for(cabinet), verbosity=verbosity)


def _agent_bindings(registers, name):
    """The names of the points the register holds, asked of its agent over SSH (not through the collection)."""
    host = registers.hosts[name]
    out = subprocess.run(["ssh", "-i", host["ansible_ssh_private_key_file"], "-p", str(host["ansible_port"]),
                          "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                          "%s@%s" % (host["ansible_user"], host["ansible_host"]), host["modulkassa_agent_path"], "status"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return sorted(b["name"] for b in json.loads(out.strip().splitlines()[-1])["bindings"])


def _cutting_agent(registers, name, kind, directory):
    path = directory / ("%s-agent" % kind)
    path.write_text(CUTTING_AGENTS[kind] % registers.hosts[name]["modulkassa_agent_path"])
    path.chmod(0o755)
    return str(path)


@pytest.mark.slow
def test_bind_rebind_exclusive_unbind_and_noop(cabinet, registers, run_playbook):
    names, ids = _create_points(cabinet, 3, "Bind-%s" % uuid.uuid4().hex[:6])
    wanted = {"reg01": names[:2], "reg02": [ids[2]]}  # two points on one register; names and ids both work
    digests = dict((host, registers.state_digest(host)) for host in wanted)

    cabinet.reset_counters()
    run = _run(run_playbook, registers, cabinet, wanted, check=True)
    tasks = by_host(run, "register")
    assert run.rc == 0, run.stdout[-3000:]
    assert tasks["reg01"]["status"] == "changed" and tasks["reg02"]["status"] == "changed"
    assert cabinet.writes(DEMO[0]) == 0, "check mode issued a code"
    assert all(registers.state_digest(host) == digests[host] for host in wanted), "check mode touched a register"
    assert [a["action"] for a in tasks["reg01"]["result"]["actions"]] == ["bind", "bind"]

    run = _run(run_playbook, registers, cabinet, wanted)
    assert run.rc == 0, run.stdout[-3000:]
    assert [holder_of(cabinet, i) for i in ids] == [registers.serial("reg01")] * 2 + [registers.serial("reg02")]
    assert sorted(b["name"] for b in by_host(run, "register")["reg01"]["result"]["bindings"] if b["name"] in names) == sorted(names[:2])
    assert all(not point(cabinet, i).get("posLinkToken") for i in ids), "a redeemed code stayed live"

    cabinet.reset_counters()
    run = _run(run_playbook, registers, cabinet, wanted)
    assert run.rc == 0 and all(t["status"] == "ok" for t in by_host(run, "register").values())
    assert all(s["changed"] == 0 for s in run.stats.values())
    assert cabinet.writes(DEMO[0]) == 0

    # Rebind names[1] from reg01 to reg02: reg02 takes it, reg01 loses it.
    wanted = {"reg02": [ids[2], names[1]]}
    run = _run(run_playbook, registers, cabinet, wanted)
    action = by_host(run, "register")["reg02"]["result"]["actions"][0]
    assert action["action"] == "rebind" and action["previous_register"] == registers.serial("reg01")
    assert holder_of(cabinet, ids[1]) == registers.serial("reg02")
    info = run_playbook(yaml.safe_dump([{"name": "info", "hosts": "reg01", "gather_facts": False, "tasks": [
        {"name": "info", "modulkassa.pos.register_info": {}}]}]), inventory=registers.inventory)
    held = [b["name"] for b in by_host(info, "info")["reg01"]["result"]["register"]["bindings"]]
    assert [n for n in held if n in names] == [names[0]]  # other tests' points may sit on the shared reg01

    # exclusive: reg02 keeps only ids[2]; names[1] is released.
    run = _run(run_playbook, registers, cabinet, {"reg02": [ids[2]]}, exclusive=True)
    mine = [(a["action"], a["id"]) for a in by_host(run, "register")["reg02"]["result"]["actions"] if a["id"] in ids]
    assert mine == [("unbind", ids[1])]
    assert holder_of(cabinet, ids[1]) is None and holder_of(cabinet, ids[2]) == registers.serial("reg02")

    # unbind, then unbind again (no-op)
    run = _run(run_playbook, registers, cabinet, {"reg01": [names[0]]}, state="unbound")
    assert by_host(run, "register")["reg01"]["status"] == "changed" and holder_of(cabinet, ids[0]) is None
    run = _run(run_playbook, registers, cabinet, {"reg01": [names[0]]}, state="unbound")
    assert by_host(run, "register")["reg01"]["status"] == "ok"


def test_a_register_reporting_another_serial_than_declared_is_not_touched(cabinet, registers, run_playbook):
    """modulkassa_register_serial (the export writes it; here a templated play variable, as a host variable is) must
    be what the host's agent reports: a wrong ansible_host would otherwise give another register the points."""
    names, ids = _create_points(cabinet, 2, "Serial-%s" % uuid.uuid4().hex[:6])
    wanted = {"reg01": [names[0]], "reg02": [names[1]]}
    digest = registers.state_digest("reg01")
    playbook, extra_vars = _bind_play(wanted)
    play = yaml.safe_load(playbook)
    play[0]["vars"] = {"modulkassa_register_serial": "{{ declared_serials[inventory_hostname] }}"}
    extra_vars["declared_serials"] = {"reg01": "SN-NOT-THIS-ONE", "reg02": registers.serial("reg02")}
    cabinet.reset_counters()
    for check in (True, False):
        run = run_playbook(yaml.safe_dump(play, allow_unicode=True), inventory=registers.inventory,
                           extra_vars=extra_vars, check=check, env=env_for(cabinet))
        tasks = by_host(run, "register")
        assert run.rc != 0 and tasks["reg01"]["status"] == "failed", run.stdout[-3000:]
        message = tasks["reg01"]["result"]["msg"]
        assert "reports serial %r" % registers.serial("reg01") in message and "'SN-NOT-THIS-ONE'" in message
        assert tasks["reg02"]["status"] == "changed", "the register whose serial matches converges"
    assert registers.state_digest("reg01") == digest, "the mismatched register was touched"
    assert holder_of(cabinet, ids[0]) is None and holder_of(cabinet, ids[1]) == registers.serial("reg02")
    assert not point(cabinet, ids[0]).get("posLinkToken"), "a code was issued for the mismatched register"
    _run(run_playbook, registers, cabinet, {"reg02": [names[1]]}, state="unbound")  # leave reg02 as found


def test_check_mode_for_a_point_not_created_yet_warns(cabinet, registers, run_playbook):
    run = _run(run_playbook, registers, cabinet, {"reg03": ["Never created %s" % uuid.uuid4().hex[:6]]}, check=True)
    task = by_host(run, "register")["reg03"]
    assert run.rc == 0 and task["status"] == "changed"
    assert any("does not exist" in w for w in task["result"].get("warnings", []))
    run = _run(run_playbook, registers, cabinet, {"reg03": ["Never created either"]})
    assert run.rc != 0 and "does not exist in the cabinet" in by_host(run, "register")["reg03"]["result"]["msg"]


def test_unreachable_register_does_not_stop_the_others(cabinet, registers, run_playbook):
    names, ids = _create_points(cabinet, 2, "Down-%s" % uuid.uuid4().hex[:6])
    registers.cli("stop", "--only", "reg04")
    try:
        run = _run(run_playbook, registers, cabinet, {"reg03": [names[0]], "reg04": [names[1]]})
        tasks = by_host(run, "register")
        assert tasks["reg04"]["status"] == "unreachable"
        assert tasks["reg03"]["status"] == "changed" and holder_of(cabinet, ids[0]) == registers.serial("reg03")
        assert holder_of(cabinet, ids[1]) is None and not point(cabinet, ids[1]).get("posLinkToken")
    finally:
        registers.cli("start", "--only", "reg04")
    run = _run(run_playbook, registers, cabinet, {"reg04": [names[1]]})
    assert by_host(run, "register")["reg04"]["status"] == "changed" and holder_of(cabinet, ids[1]) == registers.serial("reg04")


def test_expired_code_gives_a_clear_message_and_no_live_code(cabinet, registers, run_playbook):
    names, ids = _create_points(cabinet, 1, "Exp-%s" % uuid.uuid4().hex[:6])
    cabinet.knobs(code_ttl_s=0)
    try:
        run = _run(run_playbook, registers, cabinet, {"reg03": names})
    finally:
        cabinet.knobs(code_ttl_s=900)
    task = by_host(run, "register")["reg03"]
    assert task["status"] == "failed"
    assert "activation-code-expired" in task["result"]["msg"] and "expired before the register redeemed it" in task["result"]["msg"]
    assert task["result"]["agent_error"] == "activation-code-expired"
    assert not point(cabinet, ids[0]).get("posLinkToken"), "a refused code must be withdrawn"
    run = _run(run_playbook, registers, cabinet, {"reg03": names})
    assert by_host(run, "register")["reg03"]["status"] == "changed" and holder_of(cabinet, ids[0]) == registers.serial("reg03")


@pytest.mark.slow
@pytest.mark.parametrize("cut", ["connection", "timeout"])
def test_bind_cut_off_before_redeeming_leaves_no_live_code(cut, cabinet, registers, ansible_env, tmp_path):
    """The register holds one point and must take a second. The SSH connection drops (or the task's timeout fires)
    after the code was issued and before the register redeemed it. No code may stay live for that point; the result
    (a lost connection is an unreachable host, as Ansible reports one) says what was done, what failed and the real
    bindings after; the drift report (through modulkassa-plan) shows the failed action. The next run binds it."""
    host = "reg05"
    names, ids = _create_points(cabinet, 2, "Cut-%s" % uuid.uuid4().hex[:6])
    wanted = {host: names}
    held = _agent_bindings(registers, host)
    workdir = tmp_path / "plan"
    workdir.mkdir()
    env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               MK_TEST_RESULTS=str(workdir / "results.jsonl"), **env_for(cabinet))

    def plan(wanted, **kwargs):
        playbook, extra_vars = _bind_play(wanted, **kwargs)
        (workdir / "bind.yml").write_text(playbook)
        (workdir / "vars.json").write_text(json.dumps(extra_vars))
        (workdir / "results.jsonl").write_text("")
        process = subprocess.run([PLAN, "--report-dir", str(workdir / "report"), str(workdir / "bind.yml"),
                                  "-i", registers.inventory, "-e", "@%s" % (workdir / "vars.json")],
                                 cwd=workdir, env=env, capture_output=True, text=True, timeout=240, check=False)
        records = [json.loads(line) for line in (workdir / "results.jsonl").read_text().splitlines() if line]
        tasks = [r for r in records if r.get("type") == "task" and r["task"] == "register" and r["host"] == host]
        report_path = workdir / "report" / "drift-report.json"
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        markdown = (workdir / "report" / "drift-report.md").read_text() if report else ""
        return process, tasks[-1] if tasks else None, report, markdown

    process, task, report, dummy = plan({host: names[:1]})
    assert process.returncode == 2 and task["status"] == "changed", process.stdout[-3000:]

    agent = _cutting_agent(registers, host, "cut" if cut == "connection" else "hang", tmp_path)
    process, task, report, markdown = plan(wanted, extra={"agent_path": agent},
                                           task_extra={"timeout": 4} if cut == "timeout" else None)
    why = process.stdout[-3000:] + process.stderr[-2000:]
    assert process.returncode == 1, why
    body = point(cabinet, ids[1])
    assert body.get("posLinkToken") is None, "the code issued before the %s stayed live" % cut
    assert holder_of(cabinet, ids[1]) is None and holder_of(cabinet, ids[0]) == registers.serial(host)
    real = _agent_bindings(registers, host)
    assert real == sorted(held + names[:1])
    if cut == "connection":
        assert task["status"] == "unreachable", why
        result = task["result"]
        assert result["changed"] is False
        assert result["changes"]["retail_points"] == {"before": real, "after": real}
        assert [(a["action"], a["retail_point"], a["outcome"]) for a in result["actions"]] == [
            ("bind", names[1], "failed")]
        assert "bind of retail point %r" % names[1] in result["msg"]
        assert [u["host"] for u in report["unreachable"]] == [host]
        entry = [r for r in report["registers"] if r["host"] == host][0]
        assert entry["changes"]["retail_points"]["after"] == real
        assert [(a["retail_point"], a["outcome"]) for a in entry["actions"]] == [(names[1], "failed")]
        assert "bind %s (failed)" % names[1] in markdown, markdown
    else:
        # A task timeout is Ansible's to report (its message, not the plugin's result); the cleanup ran before it.
        # 2.19+ says "timed out"; 2.16 "failed to execute in the expected time frame (4) and was terminated".
        message = task["result"]["msg"].lower()
        assert task["status"] == "failed" and ("timed out" in message or "expected time frame" in message), why

    process, task, dummy, dummy = plan(wanted)
    assert process.returncode == 2 and task["status"] == "changed", process.stdout[-3000:]
    assert holder_of(cabinet, ids[1]) == registers.serial(host) and not point(cabinet, ids[1]).get("posLinkToken")
    process, task, dummy, dummy = plan(wanted, state="unbound")  # leave the shared register as it was
    assert process.returncode == 2 and _agent_bindings(registers, host) == held


def test_bind_refused_by_the_agent_claims_nothing(cabinet, registers, run_playbook):
    """A bind the agent refuses (an expired code, twice) on a register that holds another point: not changed, the
    action marked failed, changes.after and the diff are the register's real bindings, no live code."""
    host = "reg05"
    names, ids = _create_points(cabinet, 2, "Refused-%s" % uuid.uuid4().hex[:6])
    assert by_host(_run(run_playbook, registers, cabinet, {host: names[:1]}), "register")[host]["status"] == "changed"
    cabinet.knobs(code_ttl_s=0)
    try:
        run = _run(run_playbook, registers, cabinet, {host: names})
    finally:
        cabinet.knobs(code_ttl_s=900)
    task = by_host(run, "register")[host]
    real = _agent_bindings(registers, host)
    assert task["status"] == "failed" and names[0] in real and names[1] not in real
    result = task["result"]
    assert result["changed"] is False and result["agent_error"] == "activation-code-expired"
    assert result["changes"]["retail_points"] == {"before": real, "after": real}
    assert result["diff"]["after"] == result["diff"]["before"] and names[1] not in result["diff"]["after"]
    assert [(a["action"], a["retail_point"], a["outcome"]) for a in result["actions"]] == [("bind", names[1], "failed")]
    assert not point(cabinet, ids[1]).get("posLinkToken")
    run = _run(run_playbook, registers, cabinet, {host: names}, state="unbound")
    assert by_host(run, "register")[host]["status"] == "changed" and names[0] not in _agent_bindings(registers, host)


def test_run_killed_after_issuing_the_code_recovers(cabinet, registers, run_playbook, tmp_path):
    names, ids = _create_points(cabinet, 1, "Kill-%s" % uuid.uuid4().hex[:6])
    real_agent = registers.hosts["reg02"]["modulkassa_agent_path"]
    slow_agent = tmp_path / "slow-agent"
    pid_file = tmp_path / "hanging-agent.pid"
    # The controller crashes after issuing the code and before the register redeemed it (this register swallows
    # the code and hangs, so the code stays live in the cabinet).
    slow_agent.write_text('#!/bin/sh\nif [ "$1" = activate ]; then cat >/dev/null; echo $$ > %s; exec sleep 61; fi\n'
                          'exec %s "$@"\n' % (pid_file, real_agent))
    slow_agent.chmod(0o755)
    playbook, extra_vars = _bind_play({"reg02": names}, extra={"agent_path": str(slow_agent)})
    process = run_playbook(playbook, inventory=registers.inventory, extra_vars=extra_vars, env=env_for(cabinet), background=True)
    deadline = time.monotonic() + 60
    stale_code = None
    while time.monotonic() < deadline and not stale_code:
        stale_code = point(cabinet, ids[0]).get("posLinkToken")
        time.sleep(0.2)
    assert stale_code, "the code was never issued"
    while time.monotonic() < deadline and not (pid_file.exists() and pid_file.read_text().strip()):
        time.sleep(0.05)  # the agent took the code and hangs
    kill_tree(process)  # the controller and its workers: a crash (reliability_helpers.kill_tree)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the register's hanging agent, by its pid

    run = _run(run_playbook, registers, cabinet, {"reg02": names})
    assert by_host(run, "register")["reg02"]["status"] == "changed"
    assert holder_of(cabinet, ids[0]) == registers.serial("reg02")
    body = point(cabinet, ids[0])
    assert not body.get("posLinkToken"), "no live code may stay behind"
    # The code issued by the killed run was replaced: redeeming it now fails.
    answer = httpx.post(cabinet.url + "/api/device/v1/activate",
                        json={"code": stale_code, "serial": "SN-INTRUDER", "model": "x", "appVersion": "1"})
    assert answer.status_code in (404, 409)


def test_no_secret_in_verbose_output(cabinet, registers, run_playbook, tmp_path):
    """A full run at -vvvv with --diff and the drift report (issue 6): points converged, a sealed code issued,
    three registers bound. The output, the per-task results and the report are grepped for the cabinet password
    (and its Basic token), every activation code the cabinet issued and every device credential: zero hits.
    Credential files are 0600, and the code reached the agent on stdin: the command -vvvv shows is a bare
    ``<agent> activate``."""
    tag = "Secret-%s" % uuid.uuid4().hex[:6]
    names = ["%s %d" % (tag, i) for i in range(3)]
    manual = "%s manual" % tag
    code_file, report_dir = tmp_path / "codes.json", tmp_path / "report"
    wanted = {"reg01": [names[0]], "reg02": [names[1]], "reg03": [names[2]]}
    playbook = yaml.safe_dump([
        {"name": "points", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "points", "modulkassa.pos.retail_points": {"points": [{"name": n, "inn": "7707083893", "kpp": "773601001"}
                                                                          for n in names + [manual]]}},
            {"name": "sealed", "modulkassa.pos.retail_point": {"name": manual, "state": "active",
                                                               "code_file": str(code_file)}}]},
        {"name": "bind", "hosts": "reg01:reg02:reg03", "gather_facts": False, "tasks": [
            {"name": "register", "modulkassa.pos.register": {"retail_points": "{{ wanted[inventory_hostname] }}"}}]},
    ], allow_unicode=True, sort_keys=False)
    env = dict(env_for(cabinet), ANSIBLE_CALLBACKS_ENABLED="test_results,modulkassa.pos.drift_report",
               MODULKASSA_DRIFT_REPORT_DIR=str(report_dir))
    localhost = "localhost ansible_connection=local ansible_python_interpreter={{ ansible_playbook_python }}\n"
    run = run_playbook(playbook, inventory=[registers.inventory, localhost], extra_vars={"wanted": wanted},
                       diff=True, verbosity=4, env=env)
    assert run.rc == 0, run.output_tail()
    assert all(by_host(run, "register")[host]["status"] == "changed" for host in wanted)
    assert len(list(report_dir.iterdir())) == 2, "the drift report was not written"

    ids = [p["id"] for p in points_named(cabinet, tag)]
    serials = [registers.serial(host) for host in wanted]
    with sqlite3.connect(os.path.join(cabinet.data_dir, "cabinet.sqlite3")) as db:
        marks = ",".join("?" * len(ids))
        codes = [row[0] for row in db.execute("SELECT code FROM spent_codes WHERE point_id IN (%s)" % marks, ids)]
        codes += [row[0] for row in db.execute("SELECT code FROM points WHERE code IS NOT NULL AND id IN (%s)" % marks, ids)]
        device_secrets = [v for row in db.execute("SELECT login, password FROM devices WHERE serial IN (?, ?, ?)", serials)
                          for v in row]
    sealed = json.loads(code_file.read_text())[manual]["code"]
    assert len(codes) == 4 and sealed in codes, "three redeemed codes and the sealed one"
    assert oct(os.stat(str(code_file)).st_mode & 0o777) == "0o600"
    for host in wanted:
        for file_name in ("credentials.json", "state.json"):
            path = os.path.join(registers.home(host), file_name)
            assert oct(os.stat(path).st_mode & 0o777) == "0o600", path
        with open(os.path.join(registers.home(host), "credentials.json")) as handle:
            device_secrets.extend(str(v) for v in json.load(handle).values())
    basic_token = base64.b64encode(("%s:%s" % DEMO).encode()).decode()

    everything = run.stdout + run.stderr + (run.workdir / "results.jsonl").read_text(encoding="utf-8")
    everything += "".join(path.read_text(encoding="utf-8") for path in report_dir.iterdir())
    for secret in codes + [DEMO[1], basic_token] + device_secrets:
        assert len(secret) >= 8 and secret not in everything, "a secret reached the -vvvv output, a result or the report"
    # The code travels on stdin: every agent command line that -vvvv shows for an activation is a bare "activate".
    activations = [line for line in run.stdout.splitlines() if "modulkassa-agent activate" in line]
    assert len(activations) >= 3, "no agent activation seen at -vvvv"
    # (cores before 2.19 append "&& sleep 0" to every raw command)
    assert all(re.search(r"modulkassa-agent activate( && sleep 0)?(\\?['\"])*\s*$", line) for line in activations), activations


def test_retail_point_active_seals_the_code_and_waits(cabinet, registers, run_playbook, tmp_path):
    name = "Staff-typed %s" % uuid.uuid4().hex[:6]
    code_file = tmp_path / "codes.json"
    task = {"name": "point", "modulkassa.pos.retail_point": {"name": name, "state": "active", "code_file": str(code_file)}}
    play = yaml.safe_dump([{"name": "p", "hosts": "localhost", "gather_facts": False, "tasks": [task]}], allow_unicode=True)
    run = run_playbook(play, env=env_for(cabinet), verbosity=3)
    out = [t for t in run.tasks if t["task"] == "point"][0]["result"]
    assert out["changed"] and out["code_issued"] and out["point"]["activation"]["code_pending"]
    assert oct(os.stat(str(code_file)).st_mode & 0o777) == "0o600"
    code = json.loads(code_file.read_text())[name]["code"]
    assert code not in run.stdout + run.stderr

    # Re-run: the pending code is kept (no new code, no change).
    run = run_playbook(play, env=env_for(cabinet))
    out = [t for t in run.tasks if t["task"] == "point"][0]["result"]
    assert out["changed"] is False and json.loads(code_file.read_text())[name]["code"] == code

    # Staff type the code on reg04's screen (here: the agent over SSH, code on stdin).
    host = registers.hosts["reg04"]
    subprocess.run(["ssh", "-i", host["ansible_ssh_private_key_file"], "-p", str(host["ansible_port"]),
                    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                    "%s@%s" % (host["ansible_user"], host["ansible_host"]), host["modulkassa_agent_path"], "activate"],
                   input=code, capture_output=True, text=True, timeout=60, check=True)
    task["modulkassa.pos.retail_point"]["wait"] = True
    play = yaml.safe_dump([{"name": "p", "hosts": "localhost", "gather_facts": False, "tasks": [task]}], allow_unicode=True)
    out = [t for t in run_playbook(play, env=env_for(cabinet)).tasks if t["task"] == "point"][0]["result"]
    assert out["changed"] is False and out["point"]["activation"]["register_serial"] == registers.serial("reg04")


def test_pending_code_without_its_sealed_copy_is_replaced(cabinet, run_playbook, tmp_path):
    """An execution environment's file system dies with it, and the sealed code file with it. A pending code whose
    sealed copy is missing (no file, no entry for the point, or another code in it) is replaced with a fresh one and
    written again: the old one stops working. Check mode predicts it and writes nothing; a file that holds the code
    keeps it (no change)."""
    name = "Sealed %s" % uuid.uuid4().hex[:6]
    code_file = tmp_path / "ee-home" / "codes.json"
    task = {"name": "point", "modulkassa.pos.retail_point": {"name": name, "state": "active", "code_file": str(code_file)}}
    play = yaml.safe_dump([{"name": "p", "hosts": "localhost", "gather_facts": False, "tasks": [task]}], allow_unicode=True)

    def converge(check=False):
        run = run_playbook(play, env=env_for(cabinet), check=check)
        assert run.rc == 0, run.output_tail()
        return run, run.result("point")

    def live_code():
        with cabinet.api(*DEMO) as api:
            return [p for p in api.get("/api/v1/retail-points").json() if p["name"] == name][0]["posLinkToken"]

    def still_works(code):
        answer = httpx.post(cabinet.url + "/api/device/v1/activate", timeout=10,
                            json={"code": code, "serial": "SN-SEALED-PROBE", "model": "x", "appVersion": "1"})
        return answer.status_code not in (404, 409, 410)

    dummy, result = converge()
    first = json.loads(code_file.read_text())[name]["code"]
    assert result["code_issued"] and live_code() == first

    code_file.unlink()  # the container is gone
    cabinet.reset_counters()
    dummy, result = converge(check=True)
    assert result["changed"] and result["code_issued"]
    assert result["changes"]["sealed_code"] == {"before": "missing", "after": "sealed"}
    assert cabinet.writes(DEMO[0]) == 0 and not code_file.exists() and live_code() == first
    run, result = converge()
    second = json.loads(code_file.read_text())[name]["code"]
    assert result["changed"] and result["code_issued"] and result["changes"]["sealed_code"]["before"] == "missing"
    assert second != first and live_code() == second and not still_works(first)
    assert oct(os.stat(str(code_file)).st_mode & 0o777) == "0o600"

    # The file holds other points' codes only (another run's file on the same path): this point's entry is missing.
    code_file.write_text(json.dumps({"another point": {"id": str(uuid.uuid4()), "code": "12345678", "issued_at": "x"}}))
    dummy, result = converge()
    codes = json.loads(code_file.read_text())
    third = codes[name]["code"]
    assert result["changes"]["sealed_code"]["before"] == "missing" and "another point" in codes
    assert third not in (first, second) and live_code() == third and not still_works(second)

    # The file holds another code for it (a code made in the cabinet's UI since): stale, replaced.
    codes[name]["code"] = "00000000"
    code_file.write_text(json.dumps(codes))
    run, result = converge()
    fourth = json.loads(code_file.read_text())[name]["code"]
    assert result["changes"]["sealed_code"] == {"before": "stale", "after": "sealed"}
    assert fourth not in (third, "00000000") and live_code() == fourth

    # The file holds exactly the pending code: kept, nothing changes.
    cabinet.reset_counters()
    run, result = converge()
    assert result["changed"] is False and "sealed_code" not in result["changes"] and cabinet.writes(DEMO[0]) == 0
    assert live_code() == fourth
    assert not [code for code in (first, second, third, fourth) if code in run.stdout + run.stderr]
