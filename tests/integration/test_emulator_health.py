# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The harness's ``cabinet.set_health`` drives what the cabinet reports, and a playbook sees it: a point whose
tax-office registration is under way cannot be deleted (the cabinet's 409), one whose registration failed can."""

from __future__ import annotations

import uuid

import pytest
import yaml

DEMO = ("demo@example.com", "demo-password-1")


def _env(cabinet):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": DEMO[1]}


def _absent(name):
    return yaml.safe_dump([{"name": "health", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "gone", "modulkassa.pos.retail_point": {"name": name, "state": "absent"}}]}], allow_unicode=True)


def test_delete_follows_the_registration_state_set_by_the_harness(cabinet, run_playbook):
    name = "Health %s" % uuid.uuid4().hex[:8]
    with cabinet.api(*DEMO) as api:
        point = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": name}).json()
    shown = cabinet.set_health(point["id"], registration_status="OFD_WAIT_RNM")
    assert shown["registrationRequestStatus"] == "OFD_WAIT_RNM" and shown["kktStatus"] == "KKT_NOT_PLUGGED"

    run = run_playbook(_absent(name), env=_env(cabinet))
    out = run.result("gone")
    assert run.rc != 0 and out["failed"] is True and "retail-point-delete-forbidden" in out["msg"], run.output_tail()
    with cabinet.api(*DEMO) as api:
        assert api.get("/api/v1/retail-point/%s" % point["id"]).status_code == 200

    cabinet.set_health(point["id"], registration_status="ERROR")
    run = run_playbook(_absent(name), env=_env(cabinet))
    assert run.rc == 0 and run.result("gone")["action"] == "delete", run.output_tail()
    with cabinet.api(*DEMO) as api:
        assert api.get("/api/v1/retail-point/%s" % point["id"]).status_code == 404


def test_set_health_refuses_a_register_state_without_a_register(cabinet):
    with cabinet.api(*DEMO) as api:
        point = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": "Health unbound"}).json()
    with pytest.raises(AssertionError, match="retail-point-not-bound"):
        cabinet.set_health(point["id"], kkt_status="FN_NOT_PLUGGED")
