# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case saved_plans: ``tools/modulkassa-plan --out`` then ``--apply`` of a plan that updates N points (default
1,000: the data declares every point, the cabinet holds each with an address edited by hand), beside a baseline
from the same run.

* ``plan``: ``modulkassa-plan --out PLAN.json`` (``modulkassa.pos.audit`` in check mode): N updates planned;
* ``apply``: ``modulkassa-plan --apply PLAN.json`` (``modulkassa.pos.site`` held to the plan);
* baseline ``site``: the same N updates applied by ``modulkassa-plan --playbook modulkassa.pos.site`` without a
  plan, from the same cabinet state (re-seeded).

Target (issue "saved plans"): applying the N-point plan costs one list plus the writes (N PUTs), i.e. the
guard reads nothing beyond what an unguarded apply reads. The wall times are beside each other for the cost of
the guard (the fingerprints, the digest of the data). Prints one JSON object per phase.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from lib import DEMO, PYTHON, REPO_ROOT, Emulator, Runner, Workspace, by_method, emit, log, machine, measure, ratio

WRAPPER = str(Path(REPO_ROOT) / "tools" / "modulkassa_plan.py")


def _inventory(directory, count):
    """Fleet data of ``count`` points (no register): the names and addresses the data declares."""
    points = [{"name": "План %04d, «%s»" % (index, "ab"[index % 2]), "address": "г. Город, ул. Улица, д. %d" % index}
              for index in range(count)]
    (directory / "group_vars" / "all").mkdir(parents=True)
    (directory / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": PYTHON}}}}))
    (directory / "group_vars" / "all" / "fleet.yml").write_text(yaml.safe_dump(
        {"modulkassa_points": points, "modulkassa_points_purge": False}, allow_unicode=True), encoding="utf-8")
    return points


class SavedPlansBench(object):

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = Path(workdir)
        self.emulator = Emulator(workdir)
        self.runner = Runner(workdir, self.emulator)
        self.inventory = self.workdir / "inventory"
        self.points = _inventory(self.inventory, args.points)
        self._runs = 0

    def seed(self):
        """The declared points, each with its address edited by hand (what every phase then changes back)."""
        self.emulator.wipe()
        from lib import point_id_for
        self.emulator.seed([{"id": point_id_for(p["name"]), "name": p["name"], "address": "edited by hand"}
                            for p in self.points])

    def wrapper(self, label, *args):
        """One measured modulkassa-plan run; what the cabinet was asked, by method."""
        self._runs += 1
        rundir = self.workdir / ("run-%02d-%s" % (self._runs, label))
        control = rundir / "cp"
        control.mkdir(parents=True)
        env = self.runner.env(control)
        env["PATH"] = os.path.dirname(PYTHON) + os.pathsep + env.get("PATH", "")
        command = [PYTHON, WRAPPER, "--report-dir", str(rundir / "report")] + list(args) + ["-i", str(self.inventory)]
        self.emulator.reset_counters()
        outcome = measure(command, env, rundir, 3600)
        account = self.emulator.counters(DEMO[0])
        record = {"rc": outcome["rc"], "wall_s": outcome["wall_s"], "controller_cpu_s": outcome["cpu_s"],
                  "peak_rss_mb": outcome["peak_rss_mb"], "api_requests": sum(account.values()),
                  "api_by_method": by_method(account), "api_by_route": dict(sorted(account.items()))}
        if outcome["rc"] not in (0, 2):
            record["output_tail"] = outcome["output_tail"][-2000:]
            log("%s rc=%s: %s" % (label, outcome["rc"], outcome["output_tail"][-1500:]))
        return record, rundir

    def run(self):
        plan_path = self.workdir / "plan.json"
        self.seed()
        planned, dummy = self.wrapper("plan", "--out", str(plan_path))
        plan = json.loads(plan_path.read_text(encoding="utf-8")) if plan_path.exists() else {}
        plan_bytes = plan_path.stat().st_size if plan_path.exists() else 0
        applied, dummy = self.wrapper("apply", "--apply", str(plan_path))
        after_apply = self.emulator.list_points()
        self.seed()
        baseline, dummy = self.wrapper("site", "--playbook", "modulkassa.pos.site")
        writes = baseline["api_by_method"].get("PUT", 0)
        lists = applied["api_by_route"].get("GET /api/v1/retail-points", 0)
        base = {"case": "saved_plans", "points": self.args.points, "machine": machine()}
        emit(dict(base, phase="plan", ours=planned, plan_file_bytes=plan_bytes,
                  planned_points=len(plan.get("retail_points") or plan.get("points") or [])))
        emit(dict(base, phase="apply", ours=applied, baseline_site=baseline,
                  site_over_apply=ratio(baseline["wall_s"], applied["wall_s"]),
                  target={"one_list_plus_writes": applied["api_requests"] == 1 + writes and lists == 1,
                          "writes": writes, "lists": lists},
                  converged=all(p.get("address") != "edited by hand" for p in after_apply)))

    def stop(self):
        self.emulator.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1000)
    args = parser.parse_args(argv)
    with Workspace("saved-plans") as workdir:
        bench = SavedPlansBench(args, workdir)
        try:
            bench.run()
        finally:
            bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
