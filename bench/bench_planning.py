# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case 3, planning at scale: 1,000 -> 5,000 -> 10,000 declared points. Time and peak memory should grow
linearly (the planner indexes the cabinet's list once: O(declared + actual)).

Two measurements per size:

* ``in_process``: the planner alone, in a fresh Python process per size (so its peak RSS is its own):
  validate the declared points (``normalize_specs``), parse the cabinet's list from its JSON text (what the
  client receives), plan (``plan_points``), build the per-point results. Against a cabinet holding the same
  points (the no-op audit) and against an empty one (every point a create).
* ``module``: ``ansible-playbook`` running ``modulkassa.pos.retail_points`` in check mode against the emulator
  holding the same points (the no-op audit users run on every pull request), and against an empty cabinet
  (the first plan: every point a predicted create). Wall time, API requests, the peak RSS of the largest
  process (the controller or its worker). The points come from a data file (``points_file``, the path
  docs/scale.md recommends at this size); the audit is also run with the points as Ansible variables
  (``-e @points.json``, like ``group_vars``), to show what Ansible's variable system costs by itself.

Prints one JSON object per size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from lib import PYTHON, DEMO, Emulator, Runner, Workspace, api_body, declared_points, emit, log, machine

OURS_FILE = [{"name": "Audit retail points", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "Retail points are as declared", "modulkassa.pos.retail_points": {"points_file": "{{ bench_points_file }}"}}]}]
OURS_VARS = [{"name": "Audit retail points", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "Retail points are as declared", "modulkassa.pos.retail_points": {"points": "{{ bench_points }}"}}]}]


def _rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def child(count, collections_dir):
    """Runs in its own process: the planner on ``count`` points; prints one JSON line."""
    sys.path.insert(0, collections_dir)
    # pylint: disable=import-outside-toplevel
    from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
        normalize_specs,
        plan_points,
        summary_of,
    )

    rss_after_imports = _rss_mb()
    declared = declared_points(count)
    cabinet_json = json.dumps([dict(api_body(p), posLinkToken=None, kktStatus="KKT_NOT_PLUGGED",
                                    registrationRequestStatus="NOT_EXISTS", kkmInfo=None) for p in declared])
    rss_inputs = _rss_mb()
    timings = {}

    def best_of(name, function, repeat=3):
        """The fastest of ``repeat`` runs: the planner's own cost, less the noise of a shared machine."""
        for dummy in range(repeat):
            began = time.perf_counter()
            value = function()
            elapsed = time.perf_counter() - began
            timings[name] = min(timings.get(name, elapsed), elapsed)
        return value

    normalized = best_of("validate_s", lambda: normalize_specs(declared, "points"))
    actual = best_of("parse_list_s", lambda: json.loads(cabinet_json))
    changes = best_of("plan_noop_s", lambda: plan_points(normalized, actual, DEMO[0]))
    results = best_of("results_noop_s", lambda: [c.result() for c in changes])
    assert summary_of(changes)["unchanged"] == count and len(results) == count
    creates = best_of("plan_all_creates_s", lambda: plan_points(normalized, [], DEMO[0]))
    assert summary_of(creates)["create"] == count
    timings = dict((k, round(v, 4)) for k, v in timings.items())
    timings["total_s"] = round(sum(timings.values()), 4)
    print(json.dumps({"points": count, "timings": timings, "rss_after_imports_mb": rss_after_imports,
                      "rss_with_inputs_mb": rss_inputs, "peak_rss_mb": _rss_mb(),
                      "us_per_point": round(timings["total_s"] / count * 1e6, 1)}))


def in_process(count, collections_dir):
    began = time.perf_counter()
    done = subprocess.run([PYTHON, __file__, "--child", str(count), "--collections", str(collections_dir)],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parent)
    if done.returncode != 0:
        raise RuntimeError("planner child failed: %s" % done.stderr[-2000:])
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record["process_wall_s"] = round(time.perf_counter() - began, 3)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 5000, 10000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--collections", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.collections)
        return
    with Workspace("planning") as workdir:
        emulator = Emulator(workdir)
        runner = Runner(workdir, emulator)
        try:
            first = None
            for count in args.sizes:
                log("planning: %d points" % count)
                planner = in_process(count, workdir / "collections")
                points = declared_points(count)
                points_file = workdir / ("points-%d.json" % count)
                points_file.write_text(json.dumps(points))
                by_file = {"bench_points_file": str(points_file)}
                emulator.wipe()
                log("  module: check mode against an empty cabinet (every point a predicted create)")
                plan_creates = runner.run(OURS_FILE, extra_vars=by_file, check=True, label="plan-creates-%d" % count)
                log("  seeding %d points" % count)
                emulator.seed([api_body(p) for p in points])
                log("  module: check mode, no drift (the no-op audit)")
                audit = runner.run(OURS_FILE, extra_vars=by_file, check=True, diff=True, label="audit-%d" % count)
                log("  module: the same audit, the points as Ansible variables")
                audit_vars = runner.run(OURS_VARS, extra_vars={"bench_points": points}, check=True, diff=True,
                                        label="audit-vars-%d" % count)
                record = {"case": "planning", "points": count, "in_process": planner,
                          "module_audit_noop": audit, "module_plan_all_creates": plan_creates,
                          "module_audit_noop_points_as_variables": audit_vars}
                if first is None:
                    first = record
                else:
                    scale = count / float(first["points"])
                    record["growth_vs_%d" % first["points"]] = {
                        "points_x": scale,
                        "planner_time_x": round(planner["timings"]["total_s"] / first["in_process"]["timings"]["total_s"], 2),
                        "audit_wall_x": round(audit["wall_s"] / first["module_audit_noop"]["wall_s"], 2),
                        "audit_cpu_x": round(audit["controller_cpu_s"] / first["module_audit_noop"]["controller_cpu_s"], 2),
                    }
                peak = max(audit["peak_rss_mb"], plan_creates["peak_rss_mb"])
                record["targets"] = [
                    {"target": "planning %d points: peak RSS under 200 MB (points_file)" % count,
                     "value": {"module_mb": peak, "planner_process_mb": planner["peak_rss_mb"]},
                     "limit": 200, "met": peak < 200 and planner["peak_rss_mb"] < 200
                     and audit["rc"] == 0 and plan_creates["rc"] == 0 and audit["api_requests"] <= 2},
                    {"target": "(information) the same audit with the points as Ansible variables: peak RSS",
                     "value": audit_vars["peak_rss_mb"], "limit": 200, "met": audit_vars["peak_rss_mb"] < 200,
                     "informational": True},
                ]
                record["machine"] = machine()
                emit(record)
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
