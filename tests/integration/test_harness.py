# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the harness itself (conftest.py + callback_plugins/test_results.py), with only
ansible.builtin modules, so a harness bug cannot hide behind a plugin bug or the other way round."""

from __future__ import annotations

import sys
import uuid

import yaml

DEMO = ("demo@example.com", "demo-password-1")


def _create_point_play(cabinet, name):
    """A playbook that creates one point with ansible.builtin.uri and Basic auth."""
    return yaml.safe_dump([{
        "name": "harness",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": [{
            "name": "create point",
            "ansible.builtin.uri": {
                "url": cabinet.url + "/api/v1/retail-points",
                "method": "POST",
                "url_username": DEMO[0],
                "url_password": DEMO[1],
                "force_basic_auth": True,
                "body_format": "json",
                "body": {"id": str(uuid.uuid4()), "name": name},
                "status_code": [200, 201],
            },
            "register": "created",
        }],
    }], sort_keys=False)


def test_emulator_is_reachable(cabinet):
    assert cabinet.url.startswith("http://127.0.0.1:")
    with cabinet.api(*DEMO) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/api/v1/retail-points").status_code == 200
    knobs = cabinet.knobs()
    assert knobs["p_5xx"] == 0 and knobs["latency_ms"] == 0


def test_knobs_round_trip_and_restore(cabinet):
    # One test, not two ordered ones: pytest-xdist may run tests of a module on different workers.
    assert cabinet.knobs(latency_ms=5)["latency_ms"] == 5
    cabinet.restore_knobs()  # what the autouse fixture in conftest.py does after every test
    assert cabinet.knobs()["latency_ms"] == 0


def test_uri_playbook_creates_one_point(cabinet, run_playbook):
    name = "Harness %s" % uuid.uuid4().hex[:8]
    cabinet.reset_counters()

    run = run_playbook(_create_point_play(cabinet, name))

    assert run.rc == 0, run.output_tail()
    assert run.stats["localhost"]["changed"] == 0 and run.stats["localhost"]["failed"] == 0
    [task] = run.task_results("create point")
    assert task["host"] == "localhost"
    assert task["action"] == "ansible.builtin.uri"
    assert task["status"] == "ok"
    assert task["result"]["json"]["name"] == name
    assert cabinet.counters(DEMO[0]) == {"POST /api/v1/retail-points": 1}
    assert cabinet.writes(DEMO[0]) == 1
    # the point is really there, read back directly
    with cabinet.api(*DEMO) as client:
        names = [p["name"] for p in client.get("/api/v1/retail-points").json()]
    assert names.count(name) == 1


def test_uri_playbook_in_check_mode_writes_nothing(cabinet, run_playbook):
    cabinet.reset_counters()

    run = run_playbook(_create_point_play(cabinet, "Never %s" % uuid.uuid4().hex[:8]), check=True, diff=True)

    assert run.rc == 0, run.output_tail()
    [task] = run.task_results("create point")
    assert task["status"] == "skipped"  # uri does not support check mode
    assert run.stats["localhost"]["skipped"] == 1
    assert cabinet.writes(DEMO[0]) == 0
    assert cabinet.counters() == {}


def test_failed_task_and_extra_vars_are_reported(cabinet, run_playbook):
    play = yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "wrong password", "ansible.builtin.uri": {
            "url": "{{ base }}/api/v1/retail-points", "url_username": DEMO[0], "url_password": "nope",
            "force_basic_auth": True}}],
    }])

    run = run_playbook(play, extra_vars={"base": cabinet.url})

    assert run.rc == 2
    assert run.stats["localhost"]["failed"] == 1
    result = run.result("wrong password")
    assert result["status"] == 401 and result["failed"] is True
    assert run.task_results("wrong password")[0]["status"] == "failed"


def test_ini_inventory_text_and_per_host_stats(run_playbook):
    inventory = "\n".join("%s ansible_connection=local ansible_python_interpreter=%s" % (h, sys.executable)
                          for h in ("reg-a", "reg-b"))
    play = yaml.safe_dump([{"hosts": "all", "gather_facts": False, "tasks": [
        {"name": "touch", "ansible.builtin.command": "true", "changed_when": "inventory_hostname == 'reg-b'"},
        {"name": "only a", "ansible.builtin.debug": {"msg": "hi"}, "when": "inventory_hostname == 'reg-a'"},
    ]}])

    run = run_playbook(play, inventory=inventory)

    assert run.rc == 0, run.output_tail()
    assert sorted(run.stats) == ["reg-a", "reg-b"]
    assert run.stats["reg-b"]["changed"] == 1 and run.stats["reg-a"]["changed"] == 0
    assert {(t["host"], t["task"], t["status"]) for t in run.tasks} == {
        ("reg-a", "touch", "ok"), ("reg-b", "touch", "changed"),
        ("reg-a", "only a", "ok"), ("reg-b", "only a", "skipped")}
