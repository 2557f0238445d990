# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Auth and isolation (issue 6).

* Wrong credentials, through every cabinet module: one clean error each, exactly one request each (no retry
  storm), the password echoed nowhere at -vvvv. (retail_points alone: test_retail_points.py.)
* Account B cannot read or change account A's points through any module, by name or by id: reads see nothing,
  writes fail or find nothing to do, and A's point is byte for byte what it was, with no code issued.
"""

from __future__ import annotations

import base64
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, OTHER, by_host, dump, env_for, play, point  # noqa: E402

LOCALHOST = "localhost ansible_connection=local ansible_python_interpreter={{ ansible_playbook_python }}\n"


def test_wrong_credentials_give_one_clean_error_per_module(cabinet, registers, run_playbook):
    wrong = "Wrong-Password-%s" % uuid.uuid4().hex[:8]
    agent_path = registers.hosts["reg01"]["modulkassa_agent_path"]  # the agent's own status works; the cabinet refuses

    def task(label, module, **args):
        return {"name": label, "modulkassa.pos.%s" % module: args, "ignore_errors": True}

    tasks = [
        task("retail_point", "retail_point", name="Shop 1"),
        task("retail_point by id", "retail_point", id=str(uuid.uuid4()), state="absent"),
        task("retail_point_info", "retail_point_info"),
        task("register", "register", retail_points=["Shop 1"], agent_path=agent_path),
    ]
    cabinet.reset_counters()
    run = run_playbook(dump(play(tasks)), verbosity=4, env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0],
                                                             "MODULKASSA_PASSWORD": wrong})
    for name in ("retail_point", "retail_point by id", "retail_point_info", "register"):
        result = run.result(name)
        assert result["failed"] is True
        assert "the cabinet refused the credentials; check cabinet_login and cabinet_password (401" in result["msg"], result["msg"]
        assert not result.get("warnings"), "an auth failure was retried"
    counters = cabinet.counters()
    assert sum(counters.get("<anonymous>", {}).values()) == 4, counters
    assert DEMO[0] not in counters, "a request was authenticated"
    token = base64.b64encode(("%s:%s" % (DEMO[0], wrong)).encode()).decode()
    for secret in (wrong, token):
        assert secret not in run.stdout + run.stderr + (run.workdir / "results.jsonl").read_text(encoding="utf-8")


def test_an_account_cannot_read_or_change_another_accounts_points(cabinet, registers, run_playbook):
    name = "Isolated-%s" % uuid.uuid4().hex[:8]
    with cabinet.api(*DEMO) as api:
        point_id = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": name, "inn": "7707083893",
                                                             "settings": {"egaisSettings": {"kpp": "773601001"}},
                                                             "address": "A's shop"}).json()["id"]
    before = point(cabinet, point_id)

    def task(label, module, **args):
        return {"name": label, "modulkassa.pos.%s" % module: args, "ignore_errors": True}

    tasks = [
        task("info by id", "retail_point_info", id=point_id),
        task("info by name", "retail_point_info", name=name),
        task("rename by id", "retail_point", id=point_id, name="Hijacked"),
        task("activate by id", "retail_point", id=point_id, name=name, state="active"),
        task("delete by id", "retail_point", id=point_id, state="absent"),
        task("delete by name", "retail_point", name=name, state="absent"),
        task("list: update by id", "retail_points", points=[{"id": point_id, "name": name, "address": "B was here"}]),
        task("list: delete by id", "retail_points", points=[{"id": point_id, "state": "absent"}]),
    ]
    bind = {"name": "bind by id", "modulkassa.pos.register": {"retail_points": [point_id]}, "ignore_errors": True}
    cabinet.reset_counters()
    run = run_playbook(dump(play(tasks), play([bind], hosts="reg04")), inventory=[registers.inventory, LOCALHOST],
                       env=env_for(cabinet, OTHER))

    assert run.result("info by id")["points"] == [] and run.result("info by name")["points"] == []
    for label in ("rename by id", "activate by id", "list: update by id"):
        result = run.result(label)
        # B's create with A's id collides (409), and A's point stays invisible to B (404): a failure, no change.
        assert result["failed"] is True and not result.get("changed"), (label, result)
        assert "not found" in result["msg"], result["msg"]
    for label in ("delete by id", "delete by name", "list: delete by id"):
        result = run.result(label)
        assert not result.get("failed") and result["changed"] is False, (label, result)
    result = by_host(run, "bind by id")["reg04"]["result"]
    assert result["failed"] is True and "does not exist in the cabinet" in result["msg"]

    assert DEMO[0] not in cabinet.counters(), "a request was made as account A"
    assert point(cabinet, point_id) == before, "account B changed account A's point"
    writes = dict((key, n) for key, n in cabinet.counters(OTHER[0]).items() if not key.startswith("GET "))
    assert set(writes) <= {"POST /api/v1/retail-points"}, "B sent a PUT or DELETE for A's point: %s" % writes
