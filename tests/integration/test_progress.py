# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Never silent for minutes: long steps print progress lines to the run's stdout at a steady interval.

AWX, ansible-runner and CI runners drop jobs whose output stays silent for about five minutes; a wait for staff to
type an activation code, a slow binding or thousands of point writes would be. The interval is 30 s by default;
these tests shrink it with ``MODULKASSA_PROGRESS_INTERVAL`` and check that the lines come while the task runs, name
the host and the step, and carry no secret (no code, no password).
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, dump, env_for, play, point_specs, sqlite_rows, unique  # noqa: E402

PROGRESS = re.compile(r"^\[(?P<host>[^\]]+)\] modulkassa\.pos: (?P<text>.*)$", re.MULTILINE)


def _progress(run):
    return [(m.group("host"), m.group("text")) for m in PROGRESS.finditer(run.stdout)]


def _between_header_and_result(run, task, lines):
    """Every progress line sits after the task's header and before the next task's (printed while it ran)."""
    start = run.stdout.index("TASK [%s]" % task)
    end = run.stdout.find("TASK [", start + 1)
    block = run.stdout[start:end if end >= 0 else None]
    return all("] modulkassa.pos: %s" % text in block for dummy, text in lines)


def test_a_long_activation_wait_prints_progress_without_secrets(cabinet, run_playbook, tmp_path):
    name = "Progress %s" % uuid.uuid4().hex[:6]
    code_file = tmp_path / "codes.json"
    playbook = dump(play([{"name": "wait", "modulkassa.pos.retail_point": {
        "name": name, "state": "active", "code_file": str(code_file), "wait": True, "wait_timeout": 4.5}}]))
    run = run_playbook(playbook, env=dict(env_for(cabinet), MODULKASSA_PROGRESS_INTERVAL="1"))
    assert run.rc != 0 and "was not activated within 4 s" in run.result("wait")["msg"]
    lines = _progress(run)
    assert len(lines) >= 3, run.output_tail()
    assert all(host == "localhost" and "waiting for a register to redeem the activation code of %r" % name in text
               for host, text in lines), lines
    assert _between_header_and_result(run, "wait", lines)
    code = json.loads(code_file.read_text())[name]["code"]
    assert code not in run.stdout + run.stderr and DEMO[1] not in run.stdout + run.stderr


def test_a_long_aggregate_write_prints_progress(cabinet, run_playbook):
    tag = unique("ProgressW")
    playbook = dump(play([{"name": "points", "modulkassa.pos.retail_points": {
        "points": point_specs(tag, 40), "concurrency": 2}}]))
    cabinet.knobs(latency_ms=150)  # 2 writes per 150 ms: about 3 s of writes
    run = run_playbook(playbook, env=dict(env_for(cabinet), MODULKASSA_PROGRESS_INTERVAL="0.8"))
    assert run.rc == 0, run.output_tail()
    lines = _progress(run)
    counts = [int(re.match(r"retail_points: (\d+) of 40 writes done, 0 failed", text).group(1)) for dummy, text in lines]
    assert len(counts) >= 2 and counts == sorted(counts) and counts[-1] < 40, lines
    assert _between_header_and_result(run, "points", lines)
    # Without the variable the interval is 30 s: a 3 s write prints nothing.
    run = run_playbook(dump(play([{"name": "points", "modulkassa.pos.retail_points": {
        "points": point_specs(tag, 40, address="elsewhere"), "concurrency": 2}}])), env=env_for(cabinet))
    assert run.rc == 0 and _progress(run) == []


def test_a_slow_binding_prints_progress(cabinet, registers, run_playbook, tmp_path):
    host = "reg05"
    name = "Progress bind %s" % uuid.uuid4().hex[:6]
    with cabinet.api(*DEMO) as api:
        point_id = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": name}).json()["id"]
    slow_agent = tmp_path / "slow-agent"
    slow_agent.write_text('#!/bin/sh\n[ "$1" = activate ] && sleep 3\nexec %s "$@"\n'
                          % registers.hosts[host]["modulkassa_agent_path"])
    slow_agent.chmod(0o755)
    tasks = [{"name": "bind", "modulkassa.pos.register": {"retail_points": [name], "agent_path": str(slow_agent)}}]
    run = run_playbook(dump(play(tasks, hosts=host)), inventory=registers.inventory,
                       env=dict(env_for(cabinet), MODULKASSA_PROGRESS_INTERVAL="1"), verbosity=4)
    assert run.rc == 0, run.output_tail()
    lines = _progress(run)
    assert len(lines) >= 2 and all(
        h == host and text.startswith("register %s: bind of retail point %r (action 1 of 1, "
                                      % (registers.serial(host), name)) for h, text in lines), lines
    codes = [code for (code,) in sqlite_rows(cabinet, "SELECT code FROM spent_codes WHERE point_id = ?", [point_id])]
    assert codes and not [code for code in codes if code in run.stdout + run.stderr]
    release = [{"name": "release", "modulkassa.pos.register": {"retail_points": [name], "state": "unbound"}}]
    assert run_playbook(yaml.safe_dump([play(release, hosts=host)]), inventory=registers.inventory,
                        env=env_for(cabinet)).rc == 0
