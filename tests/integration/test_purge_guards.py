# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The purge guards, with real ansible-playbook runs against the real emulator (docs/fleet.md "Purge guards").

A purge keeps the points active on a register (made active through the device API, as a register's app does), the
points whose tax-office registration is under way (the emulator's health endpoint) and the points matching
purge_exclude, in check mode and in apply, and says why; a purge over purge_max, or from a list that declares
nothing, fails before any write (the emulator counts none); an explicit ``state: absent`` still deletes what it
names and says when that point is active. Through the module, the role (``site.yml``) and the drift report
(``tools/modulkassa-plan``).

A purge acts on the whole account, so these tests use an account of their own (harness.ACCOUNTS) and each starts it
empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = REPO_ROOT / "tools" / "modulkassa-plan"
SITE = REPO_ROOT / "playbooks" / "site.yml"
ACCOUNT = ("purge@example.com", "purge-password-5")
KEPT_WARNING = "purge kept %d point(s) that the list does not declare, because a register or the tax office holds them"


def _env(cabinet):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": ACCOUNT[0], "MODULKASSA_PASSWORD": ACCOUNT[1]}


def _play(points, **options):
    args = {"points": points}
    args.update(options)
    return yaml.safe_dump([{"name": "purge", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "points", "modulkassa.pos.retail_points": args, "register": "out"}]}], allow_unicode=True,
        sort_keys=False)


class Account(object):
    """The purge account of this worker's emulator, emptied at the start of each test."""

    def __init__(self, cabinet):
        self.cabinet = cabinet
        self.api = cabinet.api(*ACCOUNT)
        for point in self.api.get("/api/v1/retail-points").json():
            if point.get("registrationRequestStatus") not in (None, "NOT_EXISTS", "DRAFT", "ERROR", "REGISTERED"):
                cabinet.set_health(point["id"], registration_status="NOT_EXISTS")
            assert self.api.delete("/api/v1/retail-point/%s" % point["id"]).status_code == 204
        self.tag = uuid.uuid4().hex[:6]

    def create(self, name, **fields):
        """A point made by hand in the cabinet (a random id), as a chain's existing estate has them."""
        body = {"id": str(uuid.uuid4()), "name": name}
        body.update(fields)
        response = self.api.post("/api/v1/retail-points", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def activate(self, point, serial):
        """The register ``serial`` redeems a fresh code of the point (the device API its app calls)."""
        code = "code-%s" % uuid.uuid4().hex
        assert self.api.put("/api/v1/retail-point/%s" % point["id"], json={"posLinkToken": code}).status_code == 200
        response = self.cabinet._emu.post("/api/device/v1/activate", json={  # pylint: disable=protected-access
            "code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "2.4.1"})
        assert response.status_code == 200, response.text

    def ids(self):
        return set(p["id"] for p in self.api.get("/api/v1/retail-points").json())

    def writes(self):
        return self.cabinet.writes(ACCOUNT[0])

    def deletes(self):
        return sum(n for key, n in self.cabinet.counters(ACCOUNT[0]).items() if key.startswith("DELETE "))


@pytest.fixture
def account(cabinet):
    return Account(cabinet)


def _by_id(out):
    return dict((entry["id"], entry) for entry in out["results"])


def _estate(account):
    """A declared point, and five the data does not declare: active, under registration, two another integration
    owns (by name pattern, by id), and one stray that a purge may delete."""
    serial = "SN-PG-%s" % account.tag.upper()
    points = {
        "declared": account.create("Declared %s" % account.tag),
        "active": account.create("Till %s" % account.tag),
        "registering": account.create("Registering %s" % account.tag),
        "by_pattern": account.create("1C Склад %s" % account.tag),
        "by_id": account.create("Web shop %s" % account.tag),
        "stray": account.create("Stray %s" % account.tag),
    }
    account.activate(points["active"], serial)
    account.cabinet.set_health(points["registering"]["id"], registration_status="OFD_WAIT_RNM")
    return points, serial


def test_purge_keeps_the_points_the_guards_hold_in_check_mode_and_apply(cabinet, account, run_playbook):
    points, serial = _estate(account)
    playbook = _play([{"name": points["declared"]["name"]}], purge=True,
                     purge_exclude=["1c  склад *", points["by_id"]["id"].upper()])
    expected = {
        points["active"]["id"]: ("keep", ["active"], "active on register %s (kktStatus REGISTERED)" % serial),
        points["registering"]["id"]: ("keep", ["registration"],
                                      "its tax-office registration is under way (registrationRequestStatus OFD_WAIT_RNM)"),
        points["by_pattern"]["id"]: ("keep", ["purge_exclude"], "its name matches the purge_exclude entry '1c  склад *'"),
        points["by_id"]["id"]: ("keep", ["purge_exclude"],
                                "its id is the purge_exclude entry %r" % points["by_id"]["id"].upper()),
        points["stray"]["id"]: ("delete", None, None),
    }
    everything = set(p["id"] for p in points.values())

    for check in (True, False):
        cabinet.reset_counters()
        run = run_playbook(playbook, check=check, diff=True, env=_env(cabinet))
        out = run.result("points")
        assert run.rc == 0, run.output_tail()
        results = _by_id(out)
        for point_id, (action, guards, reason) in expected.items():
            entry = results[point_id]
            assert (entry["action"], entry.get("guards"), entry.get("reason")) == (action, guards, reason), entry
        assert results[points["declared"]["id"]]["action"] == "unchanged"
        assert out["summary"]["keep"] == 4 and out["summary"]["delete"] == 1 and out["changed"] is True
        assert results[points["active"]["id"]]["activation"]["register_serial"] == serial
        warnings = [w for w in out.get("warnings", []) if w.startswith("purge kept")]
        assert len(warnings) == 1 and warnings[0].startswith(KEPT_WARNING % 2), out.get("warnings")
        assert points["active"]["name"] in warnings[0] and points["by_pattern"]["name"] not in warnings[0]
        labels = [entry["before_header"] for entry in out["diff"]]
        assert labels == ["retail point %s (now)" % points["stray"]["name"]]  # kept points are no diff
        if check:
            assert account.writes() == 0 and account.ids() == everything
        else:
            # Exactly one write: the stray's DELETE. Every kept point is still in the cabinet.
            assert account.writes() == 1 and account.deletes() == 1
            assert account.ids() == everything - {points["stray"]["id"]}

    cabinet.reset_counters()
    again = run_playbook(playbook, env=_env(cabinet)).result("points")
    assert again["changed"] is False and again["summary"]["keep"] == 4 and account.writes() == 0


def test_one_purge_exclude_string_is_one_entry_even_with_a_comma(cabinet, account, run_playbook):
    """A single string is one entry, not a list Ansible splits at its commas (point names hold them)."""
    kept = account.create("1C, склад %s" % account.tag)
    stray = account.create("Stray %s" % account.tag)
    cabinet.reset_counters()
    run = run_playbook(_play([], purge=True, purge_max=-1, purge_exclude="1c, склад *"), check=True, env=_env(cabinet))
    assert run.rc == 0, run.output_tail()
    results = _by_id(run.result("points"))
    assert (results[kept["id"]]["action"], results[stray["id"]]["action"]) == ("keep", "delete")
    assert account.writes() == 0


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_a_purge_over_purge_max_fails_before_any_write(cabinet, account, run_playbook, check):
    """The same run would also create one point and update one: neither is written."""
    updated = account.create("Updated %s" % account.tag, address="old")
    strays = [account.create("Stray %s %d" % (account.tag, i)) for i in range(3)]
    active = account.create("Till %s" % account.tag)
    account.activate(active, "SN-PG-%s" % account.tag.upper())
    before = account.ids()
    declared = [{"name": "New %s" % account.tag}, {"name": updated["name"], "address": "new"}]
    cabinet.reset_counters()
    run = run_playbook(_play(declared, purge=True, purge_max=2), check=check, env=_env(cabinet))
    out = run.result("points")
    assert run.rc != 0 and out["failed"] is True, run.output_tail()
    assert account.writes() == 0 and account.ids() == before
    assert out["msg"].startswith("purge would delete 3 points that the list does not declare, more than purge_max "
                                 "allows (2): "), out["msg"]
    assert "Nothing was written (no create, update or delete)" in out["msg"]
    assert "raise purge_max (the fleet variable modulkassa_points_purge_max) to 3 or more" in out["msg"]
    assert "set it to -1 for no limit" in out["msg"]
    # The refused plan, for the log and the drift report: the kept point is not counted.
    results = _by_id(out)
    assert [results[s["id"]]["outcome"] for s in strays] == ["not_attempted"] * 3
    assert results[active["id"]]["action"] == "keep"
    assert out["summary"]["create"] == 1 and out["summary"]["update"] == 1 and out["summary"]["delete"] == 3

    # How to allow it: a limit as large as the purge (or -1).
    run = run_playbook(_play(declared, purge=True, purge_max=3), check=check, env=_env(cabinet))
    assert run.rc == 0, run.output_tail()
    assert (account.ids() == before) is check


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_a_purge_from_an_empty_list_is_refused_unless_the_limit_is_lifted(cabinet, account, run_playbook, check):
    strays = [account.create("Stray %s %d" % (account.tag, i)) for i in range(2)]
    active = account.create("Till %s" % account.tag)
    account.activate(active, "SN-PG-%s" % account.tag.upper())
    before = account.ids()
    cabinet.reset_counters()
    run = run_playbook(_play([], purge=True), check=check, env=_env(cabinet))
    out = run.result("points")
    assert run.rc != 0 and account.writes() == 0 and account.ids() == before, run.output_tail()
    assert "because the list declares no point as present: an empty or truncated list?" in out["msg"], out["msg"]
    assert "to -1 (no limit)" in out["msg"]

    run = run_playbook(_play([], purge=True, purge_max=-1), check=check, env=_env(cabinet))
    out = run.result("points")
    assert run.rc == 0, run.output_tail()
    assert out["summary"]["delete"] == 2 and out["summary"]["keep"] == 1
    assert account.ids() == (before if check else {active["id"]})
    assert set(s["id"] for s in strays) & account.ids() == (set(s["id"] for s in strays) if check else set())


def test_an_explicit_delete_of_an_active_point_says_so_and_deletes_it(cabinet, account, run_playbook):
    active = account.create("Till %s" % account.tag)
    serial = "SN-PG-%s" % account.tag.upper()
    account.activate(active, serial)
    notice = ("deleting it takes it from register %s (kktStatus REGISTERED): that register can no longer sell under it"
              % serial)
    playbook = _play([{"name": active["name"], "state": "absent"}])
    cabinet.reset_counters()
    run = run_playbook(playbook, check=True, diff=True, env=_env(cabinet))
    out = run.result("points")
    assert run.rc == 0 and account.writes() == 0 and active["id"] in account.ids(), run.output_tail()
    entry = out["results"][0]
    assert entry["action"] == "delete" and entry["notices"] == [notice]
    assert entry["changes"]["register"] == {"before": serial, "after": None}
    assert "retail point %r: %s" % (active["name"], notice) in out["warnings"]
    assert yaml.safe_load(out["diff"][0]["before"])["register"] == serial

    single = yaml.safe_dump([{"name": "one", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "one", "modulkassa.pos.retail_point": {"id": active["id"], "state": "absent"}}]}])
    out = run_playbook(single, check=True, diff=True, env=_env(cabinet)).result("one")
    assert out["changes"]["register"] == {"before": serial, "after": None} and out["notices"] == [notice]
    assert yaml.safe_load(out["diff"]["before"])["register"] == serial and account.writes() == 0

    run = run_playbook(playbook, env=_env(cabinet))
    assert run.rc == 0 and run.result("points")["results"][0]["outcome"] == "done", run.output_tail()
    assert active["id"] not in account.ids()


def test_an_explicit_delete_the_cabinet_refuses_for_its_registration_says_why(cabinet, account, run_playbook):
    registering = account.create("Registering %s" % account.tag)
    other = account.create("Other %s" % account.tag)
    cabinet.set_health(registering["id"], registration_status="STARTED")
    playbook = _play([{"name": registering["name"], "state": "absent"}, {"name": other["name"], "state": "absent"}])
    cabinet.reset_counters()
    out = run_playbook(playbook, check=True, env=_env(cabinet)).result("points")
    assert account.writes() == 0
    assert out["results"][0]["notices"] == [
        "the cabinet refuses to delete it while its tax-office registration is under way (registrationRequestStatus "
        "STARTED; a point can be deleted in NOT_EXISTS, DRAFT, ERROR, REGISTERED): the delete fails until the request "
        "ends"]
    run = run_playbook(playbook, env=_env(cabinet))
    out = run.result("points")
    assert run.rc != 0 and out["failed"] is True, run.output_tail()
    assert account.ids() == {registering["id"]}  # the other delete was done
    error = out["results"][0]["error"]
    assert error.startswith("the cabinet refuses to delete it while its tax-office registration is under way "
                            "(registrationRequestStatus STARTED when listed; a point can be deleted in NOT_EXISTS, "
                            "DRAFT, ERROR, REGISTERED): wait until the request ends, or withdraw it in the cabinet; "), error
    assert "409 retail-point-delete-forbidden" in error and error in out["msg"]


# ---- the fleet data, the role and the drift report ------------------------------------------------------------

def _inventory(tmp_path, fleet):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(fleet, allow_unicode=True)
    (inventory / "group_vars" / "all" / "retail_points.yml").write_text(text, encoding="utf-8")
    return inventory


def _plan(cabinet, ansible_env, tmp_path, inventory, *args):
    """``tools/modulkassa-plan`` as users run it (the shim, the venv's bin first on PATH): (rc, report, markdown)."""
    workdir = tmp_path / ("plan-%s" % uuid.uuid4().hex[:6])
    workdir.mkdir()
    env = dict(ansible_env, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               MK_TEST_RESULTS=str(workdir / "results.jsonl"), **_env(cabinet))
    process = subprocess.run([str(PLAN), "--report-dir", str(workdir / "report"), "-i", str(inventory)] + list(args),
                             cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
    report_file = workdir / "report" / "drift-report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    markdown = (workdir / "report" / "drift-report.md").read_text() if report else ""
    return process.returncode, report, markdown, process.stdout[-3000:] + process.stderr[-2000:]


def test_the_drift_report_lists_kept_points_with_their_reason_and_they_are_not_drift(
        cabinet, account, ansible_env, tmp_path):
    points, serial = _estate(account)
    declared = [{"name": points["declared"]["name"]}, {"name": points["stray"]["name"]}]
    fleet = {"modulkassa_points": declared, "modulkassa_points_purge": True,
             "modulkassa_points_purge_exclude": ["1C Склад *", points["by_id"]["id"]]}
    inventory = _inventory(tmp_path, fleet)

    # Every undeclared point is kept: no drift (exit 0), and the report says which and why.
    cabinet.reset_counters()
    rc, report, markdown, output = _plan(cabinet, ansible_env, tmp_path, inventory)
    assert rc == 0, output
    assert (report["status"], report["mode"], report["summary"]["changes"]) == ("no_drift", "check", 0)
    assert account.writes() == 0
    kept = dict((k["id"], k["reason"]) for k in report["kept"])
    assert kept == {
        points["active"]["id"]: "active on register %s (kktStatus REGISTERED)" % serial,
        points["registering"]["id"]: "its tax-office registration is under way (registrationRequestStatus OFD_WAIT_RNM)",
        points["by_pattern"]["id"]: "its name matches the purge_exclude entry '1C Склад *'",
        points["by_id"]["id"]: "its id is the purge_exclude entry %r" % points["by_id"]["id"],
    }
    assert report["summary"]["kept"] == 4
    assert "## ModulKassa drift report: no drift" in markdown
    assert "### Kept by the purge guards (4)" in markdown
    assert "| Till %s | `%s` | kept: active on register %s (kktStatus REGISTERED) |" % (
        account.tag, points["active"]["id"], serial) in markdown

    # The stray leaves the data: its delete is drift (exit 2); the kept points are still only listed.
    fleet["modulkassa_points"] = declared[:1]
    _inventory(tmp_path, fleet)
    rc, report, markdown, output = _plan(cabinet, ansible_env, tmp_path, inventory)
    assert rc == 2, output
    assert [(p["name"], p["action"]) for p in report["retail_points"]] == [(points["stray"]["name"], "delete")]
    assert report["summary"]["kept"] == 4 and account.writes() == 0


def test_site_refuses_a_purge_over_purge_max_with_no_write_and_allows_it_when_raised(
        cabinet, account, ansible_env, tmp_path, run_playbook):
    """A data file cut down to one point, over an account of 12: ``site.yml`` fails at the points play, writes
    nothing, and the plan job exits 1 with the refused deletes in its report; raising the limit lets it through."""
    declared = account.create("Declared %s" % account.tag)
    strays = [account.create("Stray %s %02d" % (account.tag, i)) for i in range(11)]
    before = account.ids()
    inventory = _inventory(tmp_path, {"modulkassa_points": [{"name": declared["name"], "address": "new"}],
                                      "modulkassa_points_purge": True})

    for check in (True, False):
        cabinet.reset_counters()
        run = run_playbook(str(SITE), inventory=str(inventory), check=check, env=_env(cabinet))
        assert run.rc != 0 and account.writes() == 0 and account.ids() == before, run.output_tail()
        failed = [t for t in run.tasks if t["status"] == "failed"]
        assert failed and "more than purge_max allows (10)" in failed[0]["result"]["msg"], failed

    cabinet.reset_counters()
    rc, report, markdown, output = _plan(cabinet, ansible_env, tmp_path, inventory)
    assert rc == 1 and report["status"] == "error" and account.writes() == 0, output
    assert "purge would delete 11 points" in report["failures"][0]["msg"]
    refused = dict((p["name"], (p["action"], p["outcome"])) for p in report["retail_points"])
    assert refused == dict([(s["name"], ("delete", "not_attempted")) for s in strays]
                           + [(declared["name"], ("update", "not_attempted"))])
    assert "delete (not attempted)" in markdown

    run = run_playbook(str(SITE), inventory=str(inventory), extra_vars={"modulkassa_points_purge_max": 11},
                       env=_env(cabinet))
    assert run.rc == 0, run.output_tail()
    assert account.ids() == {declared["id"]}


def test_the_fleet_validation_refuses_bad_purge_guards_before_any_request(cabinet, account, tmp_path, run_playbook):
    inventory = _inventory(tmp_path, {"modulkassa_points": [{"name": "Shop %s" % account.tag}],
                                      "modulkassa_points_purge": True, "modulkassa_points_purge_max": "10",
                                      "modulkassa_points_purge_exclude": ["1C *", ""]})
    cabinet.reset_counters()
    run = run_playbook(str(SITE), inventory=str(inventory), env=_env(cabinet))
    assert run.rc != 0 and cabinet.counters(ACCOUNT[0]) == {}, run.output_tail()
    errors = dict((e["path"], e["message"]) for e in run.result("The fleet data is valid")["errors"])
    assert errors == {"modulkassa_points_purge_exclude[1]": "must not be empty",
                      "modulkassa_points_purge_max": "must be an integer, not a string (write it without quotes)"}
