# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real ansible-playbook runs against the real emulator: check -> apply -> re-apply -> check -> change ->
delete -> delete again, for ``retail_points``, ``retail_point`` and ``retail_point_info``.

Check mode is proven by the emulator's write counters, not by what the plugin says about itself.
"""

from __future__ import annotations

import json
import os
import sys
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, OTHER, dump, env_for, play  # noqa: E402

QUIET = ("quiet@example.com", "quiet-password-3")  # exact request counts: see harness.ACCOUNTS


def _points_task(points, purge=False, **extra):
    args = {"points": points, "purge": purge}
    args.update(extra)
    return {"name": "points", "modulkassa.pos.retail_points": args, "register": "out"}


def _diff(out):
    """{object label: (before, after)} from a result's diff (a list of YAML entries, or one entry)."""
    entries = out["diff"] if isinstance(out["diff"], list) else [out["diff"]]
    return dict((e["before_header"][:-len(" (now)")], (yaml.safe_load(e["before"]), yaml.safe_load(e["after"])))
                for e in entries)


def _unique(prefix):
    return "%s %s" % (prefix, uuid.uuid4().hex[:8])


def _points(tag):
    return [
        {"name": "%s Тверская 1" % tag, "address": "Москва, Тверская 1", "phone": "+7 495 123-45-67",
         "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102, "fiscal_service_enabled": False},
        {"name": "%s Баумана 5" % tag, "address": "Казань, Баумана 5", "inn": "500100732259",
         "tax_mode": "PATENT", "vat_tag": 1105},
    ]


def test_retail_points_lifecycle(cabinet, run_playbook):
    tag = _unique("LC")
    points = _points(tag)
    env = env_for(cabinet)

    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(points)])), check=True, diff=True, env=env)
    out = run.result("points")
    assert run.rc == 0 and out["changed"] is True
    assert out["summary"]["create"] == 2
    assert cabinet.writes(DEMO[0]) == 0, "check mode wrote to the cabinet"
    diff = _diff(out)
    assert set(diff) == {"retail point " + p["name"] for p in points}
    assert diff["retail point " + points[0]["name"]][0] == {"state": "absent"}
    assert diff["retail point " + points[0]["name"]][1]["kpp"] == "773601001"

    run = run_playbook(dump(play([_points_task(points)])), diff=True, env=env)
    out = run.result("points")
    assert run.rc == 0 and out["changed"] is True and out["summary"]["create"] == 2
    assert cabinet.counters(DEMO[0]).get("POST /api/v1/retail-points") == 2

    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(points)])), env=env)
    out = run.result("points")
    assert run.rc == 0 and out["changed"] is False and out["summary"]["unchanged"] == 2
    assert cabinet.counters(DEMO[0]) == {"GET /api/v1/retail-points": 1}, "a no-op run must cost exactly one request"

    run = run_playbook(dump(play([_points_task(points)])), check=True, diff=True, env=env)
    assert run.result("points")["changed"] is False

    changed = json.loads(json.dumps(points))
    changed[0]["phone"] = "8 (495) 765-43-21"
    changed[1]["fiscal_service_enabled"] = True
    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(changed)])), check=True, diff=True, env=env)
    out = run.result("points")
    assert out["changed"] is True and cabinet.writes(DEMO[0]) == 0
    before, after = _diff(out)["retail point " + points[0]["name"]]
    assert (before["phone"], after["phone"]) == ("4951234567", "4957654321")
    assert [r["changed_fields"] for r in out["results"]] == [["phone"], ["fiscal_service_enabled"]]

    run = run_playbook(dump(play([_points_task(changed)])), env=env)
    assert run.result("points")["summary"]["update"] == 2
    assert cabinet.counters(DEMO[0]).get("PUT /api/v1/retail-point/{id}") == 2

    gone = [{"name": p["name"], "state": "absent"} for p in points]
    run = run_playbook(dump(play([_points_task(gone)])), env=env)
    out = run.result("points")
    assert out["changed"] is True and out["summary"]["delete"] == 2
    run = run_playbook(dump(play([_points_task(gone)])), env=env)
    out = run.result("points")
    assert out["changed"] is False and out["summary"]["absent"] == 2


def test_a_name_spelt_differently_in_the_cabinet_is_that_point_not_a_near_duplicate(cabinet, run_playbook):
    """Names equal after folding (letter case, whitespace) are one name: the point made by hand as "tag  ТВЕРСКАЯ 1"
    is the declared "tag Тверская 1"; the plan renames it (the diff shows the spelling), it creates nothing."""
    tag = _unique("Fold")
    declared = [{"name": "%s Тверская 1" % tag, "address": "Москва, Тверская 1"}]
    with cabinet.api(*DEMO) as api:
        made = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": "%s  ТВЕРСКАЯ 1" % tag.upper(),
                                                       "address": "Москва, Тверская 1"})
        made.raise_for_status()
    point_id = made.json()["id"]
    env = env_for(cabinet)

    cabinet.reset_counters()
    out = run_playbook(dump(play([_points_task(declared)])), check=True, diff=True, env=env).result("points")
    assert cabinet.writes(DEMO[0]) == 0
    assert [(r["id"], r["action"], r["changed_fields"]) for r in out["results"]] == [(point_id, "update", ["name"])]
    before, after = _diff(out)["retail point " + declared[0]["name"]]
    assert (before["name"], after["name"]) == ("%s  ТВЕРСКАЯ 1" % tag.upper(), declared[0]["name"])

    out = run_playbook(dump(play([_points_task(declared)])), env=env).result("points")
    assert out["summary"] == {"create": 0, "update": 1, "delete": 0, "unchanged": 0, "absent": 0, "keep": 0}
    assert cabinet.counters(DEMO[0]).get("POST /api/v1/retail-points") is None
    with cabinet.api(*DEMO) as api:
        mine = [p for p in api.get("/api/v1/retail-points").json() if p["name"].upper().startswith(tag.upper())]
    assert [(p["id"], p["name"]) for p in mine] == [(point_id, declared[0]["name"])]
    out = run_playbook(dump(play([_points_task(declared)])), env=env).result("points")
    assert out["changed"] is False


def test_retail_point_lifecycle_and_rename_by_id(cabinet, run_playbook):
    name = _unique("Single")
    env = env_for(cabinet)
    task = {"name": "point", "modulkassa.pos.retail_point": {"name": name, "inn": "7736050003", "kpp": "773601001",
                                                            "phone": "9161234567", "vat_tag": 1103}}

    cabinet.reset_counters()
    out = run_playbook(dump(play([task])), check=True, diff=True, env=env).result("point")
    assert out["changed"] and out["action"] == "create" and cabinet.writes(DEMO[0]) == 0
    assert _diff(out)["retail point " + name][1]["vat_tag"] == 1103 and out["point"]["activation"]["active"] is False

    out = run_playbook(dump(play([task])), env=env).result("point")
    assert out["changed"] and out["point"]["id"] == out["id"]
    point_id = out["id"]
    assert "posLinkToken" not in out["point"]

    out = run_playbook(dump(play([task])), env=env).result("point")
    assert out["changed"] is False and out["action"] == "unchanged"

    rename = {"name": "point", "modulkassa.pos.retail_point": {"id": point_id, "name": name + " renamed"}}
    out = run_playbook(dump(play([rename])), diff=True, env=env).result("point")
    assert out["changed"] and out["changed_fields"] == ["name"]
    assert _diff(out)["retail point " + name + " renamed"][1]["name"] == name + " renamed"

    absent = {"name": "point", "modulkassa.pos.retail_point": {"id": point_id, "state": "absent"}}
    out = run_playbook(dump(play([absent])), diff=True, env=env).result("point")
    assert out["changed"] and out["action"] == "delete"
    assert list(_diff(out).values())[0][1] == {"state": "absent"}
    out = run_playbook(dump(play([absent])), env=env).result("point")
    assert out["changed"] is False and out["action"] == "absent"


def test_info_filters_and_module_defaults_group(cabinet, run_playbook):
    tag = _unique("Info")
    defaults = {"group/modulkassa.pos.cabinet": {"cabinet_url": cabinet.url, "cabinet_login": DEMO[0],
                                                  "cabinet_password": DEMO[1]}}
    tasks = [
        _points_task(_points(tag)),
        {"name": "by name", "modulkassa.pos.retail_point_info": {"name": "%s Баумана 5" % tag}, "register": "one"},
        {"name": "inactive", "modulkassa.pos.retail_point_info": {"active": False, "inn": "500100732259"}, "register": "two"},
    ]
    run = run_playbook(dump(play(tasks, module_defaults=defaults)), check=False)
    assert run.rc == 0, run.stdout[-3000:]
    one = run.result("by name")["points"]
    assert [p["name"] for p in one] == ["%s Баумана 5" % tag]
    assert one[0]["activation"] == {"active": False, "kkt_status": "KKT_NOT_PLUGGED", "register_serial": None, "code_pending": False}
    assert "%s Баумана 5" % tag in [p["name"] for p in run.result("inactive")["points"]]


@pytest.mark.parametrize("bad,field", [
    ({"inn": "7707083894"}, "points[1].inn"),
    ({"kpp": "12"}, "points[1].kpp"),
    ({"phone": "12345"}, "points[1].phone"),
    ({"name": "line\nbreak"}, "points[1].name"),
    ({"vat_tag": 20}, "vat_tag"),
    ({"tax_mode": "FLAT"}, "tax_mode"),
    ({"unknown_key": 1}, "unknown_key"),
])
def test_bad_input_fails_before_any_request(cabinet, run_playbook, bad, field):
    points = _points(_unique("Bad"))
    points[1].update(bad)
    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(points)])), env=env_for(cabinet, QUIET))
    out = run.result("points")
    assert run.rc != 0 and out.get("failed") is True
    assert field in out["msg"], out["msg"]
    assert cabinet.counters(QUIET[0]) == {}, "bad input must be rejected before any request"


def test_wrong_password_is_one_clean_error(cabinet, run_playbook):
    secret = "definitely-wrong-%s" % uuid.uuid4().hex
    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(_points(_unique("Auth")))])), verbosity=4,
                       env={"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": DEMO[0], "MODULKASSA_PASSWORD": secret})
    out = run.result("points")
    assert run.rc != 0 and "401" in out["msg"]
    assert secret not in run.stdout and secret not in run.stderr
    failed_auth = sum(cabinet.counters().get("<anonymous>", {}).values())
    assert failed_auth == 1, "an auth failure must not be retried"


def test_accounts_are_isolated(cabinet, run_playbook):
    tag = _unique("Iso")
    run_playbook(dump(play([_points_task(_points(tag))])), env=env_for(cabinet, DEMO))
    info = {"name": "info", "modulkassa.pos.retail_point_info": {}, "register": "x"}
    names = [p["name"] for p in run_playbook(dump(play([info])), env=env_for(cabinet, OTHER)).result("info")["points"]]
    assert not [n for n in names if n.startswith(tag)]
    # The other account declaring the same names creates its own points (its own uuid5 ids), never touching ours.
    out = run_playbook(dump(play([_points_task(_points(tag))])), env=env_for(cabinet, OTHER)).result("points")
    assert out["summary"]["create"] == 2
    out = run_playbook(dump(play([_points_task(_points(tag))])), env=env_for(cabinet, DEMO)).result("points")
    assert out["changed"] is False


def test_purge_removes_undeclared_points_of_this_account_only(cabinet, run_playbook):
    # A fresh account-wide view: purge deletes everything this account has that is not declared, except what the
    # purge guards keep (other tests of the worker may have left points of this account active on a register);
    # how many that is depends on those tests, hence no limit (the guards' own tests: test_purge_guards.py).
    tag = _unique("Purge")
    env = env_for(cabinet, OTHER)
    run_playbook(dump(play([_points_task(_points(tag))])), env=env)
    keep = _points(tag)[:1]
    task = _points_task(keep, purge=True, purge_max=-1)
    cabinet.reset_counters()
    out = run_playbook(dump(play([task])), check=True, diff=True, env=env).result("points")
    assert out["changed"] and cabinet.writes(OTHER[0]) == 0
    assert "retail point %s Баумана 5" % tag in _diff(out)
    out = run_playbook(dump(play([task])), env=env).result("points")
    assert out["summary"]["delete"] >= 1 and out["summary"]["unchanged"] == 1
    kept = [r for r in out["results"] if r["action"] == "keep"]
    assert all(r["reason"] for r in kept)
    info = {"name": "info", "modulkassa.pos.retail_point_info": {}, "register": "x"}
    names = [p["name"] for p in run_playbook(dump(play([info])), env=env).result("info")["points"]]
    assert sorted(names) == sorted([keep[0]["name"]] + [r["name"] for r in kept])


def test_a_legal_entity_needs_a_kpp_and_one_stored_without_it_is_left_alone(cabinet, run_playbook):
    """A 10-digit INN is a legal entity, whose KPP the cabinet requires (400 kpp-required): retail_points and
    retail_point refuse such a create before any request that writes, naming the field. A point the cabinet holds
    without a KPP (made before the rule, seeded here behind the API) is left alone while the data does not manage
    its INN or KPP."""
    tag = _unique("KPP")
    env = env_for(cabinet)
    legacy = {"id": str(uuid.uuid4()), "name": "%s legacy" % tag, "inn": "7707083893",
              "settings": {"egaisSettings": {"kpp": "773601001"}, "defaultVatTag": 1102}}
    with cabinet.api(*DEMO) as api:
        assert api.post("/api/v1/retail-points", json=legacy).status_code == 200
        cabinet.strip_kpp(legacy["id"])
        refused = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": "%s direct" % tag,
                                                          "inn": "7707083893"})
    assert refused.status_code == 400 and refused.json()["message"] == "kpp-required", refused.text

    points = _points(tag) + [{"name": legacy["name"], "phone": "+7 912 000-00-01"},
                             {"name": "%s new" % tag, "inn": "7707083893", "tax_mode": "COMMON"}]
    cabinet.reset_counters()
    run = run_playbook(dump(play([_points_task(points)])), env=env)
    out = run.result("points")
    assert run.rc != 0 and out["failed"] is True and out["field"] == "points[3].kpp", out
    assert "points[3].kpp" in out["msg"] and "10 digits" in out["msg"], out["msg"]
    assert cabinet.writes(DEMO[0]) == 0, cabinet.counters(DEMO[0])

    single = {"name": "point", "modulkassa.pos.retail_point": {"name": "%s new" % tag, "inn": "7707083893"},
              "register": "out"}
    out = run_playbook(dump(play([single])), env=env).result("point")
    assert out["failed"] is True and out["field"] == "kpp", out
    assert cabinet.writes(DEMO[0]) == 0

    # Without the new point: the stored one gets its phone and keeps having no KPP; nothing else is asked of it.
    run = run_playbook(dump(play([_points_task(points[:3])])), env=env)
    out = run.result("points")
    assert run.rc == 0, run.output_tail()
    entry = [r for r in out["results"] if r["name"] == legacy["name"]][0]
    assert (entry["action"], entry["changed_fields"]) == ("update", ["phone"])
    with cabinet.api(*DEMO) as api:
        stored = api.get("/api/v1/retail-point/%s" % legacy["id"]).json()
    assert stored["phone"] == "9120000001" and not (stored["settings"].get("egaisSettings") or {}).get("kpp")
    points[2]["inn"] = "7707083893"  # the same INN as stored: still nothing to write about the pair
    out = run_playbook(dump(play([_points_task(points[:3])])), env=env).result("points")
    assert out["changed"] is False, out
