# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrency (issue 6): two converges of overlapping data at the same time, as two GitOps pipelines or two
AWX job slices would run them, end in one consistent state with no duplicates.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reliability_helpers as helpers  # noqa: E402

FIELDS = ("name", "address", "phone", "inn", "kpp", "tax_mode", "vat_tag")


def _canonical(cabinet_point):
    settings = cabinet_point.get("settings") or {}
    return {"name": cabinet_point["name"], "address": cabinet_point.get("address"), "phone": cabinet_point.get("phone"),
            "inn": cabinet_point.get("inn"), "kpp": (settings.get("egaisSettings") or {}).get("kpp") or None,
            "tax_mode": settings.get("defaultTaxMode"), "vat_tag": settings.get("defaultVatTag")}


def _declared(spec):
    digits = "".join(ch for ch in spec["phone"] if ch.isdigit())[1:]
    return {"name": spec["name"], "address": spec["address"], "phone": digits, "inn": spec["inn"],
            "kpp": spec.get("kpp") or None, "tax_mode": spec["tax_mode"], "vat_tag": spec["vat_tag"]}


def _finish(process):
    """rc and the per-task records of a background run (read from its results file)."""
    process.wait(timeout=300)
    playbook = next(arg for arg in process.args if str(arg).endswith("playbook.yml"))  # in the run's own workdir
    results = Path(playbook).parent / "results.jsonl"
    tasks = [json.loads(line) for line in results.read_text(encoding="utf-8").split("\n") if line]
    return process.returncode, [t for t in tasks if t.get("type") == "task"]


def test_two_converges_of_overlapping_points_end_consistent(cabinet, run_playbook):
    tag = helpers.unique("Race")
    # A declares points 0-59, B declares 30-89 with other attributes. The shared 30 come last in both lists, so
    # both runs list the cabinet before either reaches them and both try to create them.
    side_a = (helpers.point_specs(tag, 30, 0, address="A-side")
              + helpers.point_specs(tag, 30, 30, address="A-side", tax_mode="COMMON"))
    side_b = helpers.point_specs(tag, 30, 60, address="B-side") + [
        dict(spec, address="B-side", phone="+7 900 000-00-%02d" % i, tax_mode="PATENT", vat_tag=1105,
             kpp=spec.get("kpp", ""))  # a legal entity keeps its KPP (the cabinet requires it)
        for i, spec in enumerate(helpers.point_specs(tag, 30, 30))]
    for spec in side_a:
        spec.setdefault("kpp", "")  # every field declared on both sides, so "wholly A's or B's" is well defined

    def playbook(points):
        task = {"name": "points", "modulkassa.pos.retail_points": {"points": points, "concurrency": 2}}
        return helpers.dump(helpers.play([task]))

    cabinet.knobs(latency_ms=100)  # 60 writes, 2 at a time: each run writes for ~3 s, side by side
    cabinet.reset_counters()
    first = run_playbook(playbook(side_a), env=helpers.env_for(cabinet), background=True)
    second = run_playbook(playbook(side_b), env=helpers.env_for(cabinet), background=True)
    (rc_a, tasks_a), (rc_b, tasks_b) = _finish(first), _finish(second)
    cabinet.restore_knobs()
    assert rc_a == 0 and rc_b == 0, (tasks_a[-1:], tasks_b[-1:])

    # Both runs planned to create the shared points: the race really happened (uuid5 ids made them collide).
    planned_a = dict((r["name"], r["action"]) for r in tasks_a[0]["result"]["results"])
    planned_b = dict((r["name"], r["action"]) for r in tasks_b[0]["result"]["results"])
    raced = [name for name in planned_a if planned_a[name] == "create" and planned_b.get(name) == "create"]
    assert raced, "the two runs did not overlap: %s" % planned_b
    assert cabinet.counters(helpers.DEMO[0])["POST /api/v1/retail-points"] == 90 + len(raced)

    points = helpers.points_named(cabinet, tag + " ")
    names = collections.Counter(p["name"] for p in points)
    assert len(points) == 90 and max(names.values()) == 1, "duplicates: %s" % names.most_common(3)
    declared_a = dict((s["name"], _declared(s)) for s in side_a)
    declared_b = dict((s["name"], _declared(s)) for s in side_b)
    won_by_b = set()
    for got in map(_canonical, points):
        candidates = [d[got["name"]] for d in (declared_a, declared_b) if got["name"] in d]
        # One consistent state: each shared point is wholly A's or wholly B's declaration, never a mix.
        assert got in candidates, "%s is neither declaration: %s" % (got, candidates)
        if got["name"] in declared_a and got != declared_a[got["name"]]:
            won_by_b.add(got["name"])

    # Pipeline A run again updates exactly the shared points that B's run wrote last, and nothing else.
    out = run_playbook(playbook(side_a), env=helpers.env_for(cabinet)).result("points")
    assert out["summary"] == {"create": 0, "update": len(won_by_b), "delete": 0, "unchanged": 60 - len(won_by_b), "absent": 0,
                              "keep": 0}
    assert {r["name"] for r in out["results"] if r["action"] == "update"} == won_by_b


def test_two_pipelines_binding_the_same_registers_at_once(cabinet, registers, run_playbook):
    hosts = ("reg04", "reg05")
    tag = helpers.unique("RaceBind")
    ids = helpers.create_points(cabinet, ["%s %d" % (tag, i) for i in range(len(hosts))])
    wanted = dict((host, ["%s %d" % (tag, i)]) for i, host in enumerate(hosts))
    playbook = helpers.bind_playbook(hosts)
    runs = [run_playbook(playbook, inventory=registers.inventory, extra_vars={"wanted": wanted}, env=helpers.env_for(cabinet),
                         background=True) for dummy in range(2)]
    outcomes = [_finish(process) for process in runs]
    for rc, tasks in outcomes:
        assert rc == 0, [t["result"].get("msg") for t in tasks]
    for host, point_id in zip(hosts, ids):
        assert helpers.holder(helpers.points_named(cabinet, wanted[host][0])[0]) == registers.serial(host)
    assert helpers.live_codes(cabinet, ids) == {}
    run = run_playbook(playbook, inventory=registers.inventory, extra_vars={"wanted": wanted}, env=helpers.env_for(cabinet))
    assert run.rc == 0 and all(stats["changed"] == 0 for stats in run.stats.values())
