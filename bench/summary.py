# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Summary tables of a benchmark results file (bench/results/<timestamp>.json).

    python bench/summary.py bench/results/20261124T090000Z.json [--markdown]

run_all.py prints the same after a run. ``--markdown`` gives the tables docs/scale.md quotes.
"""

from __future__ import annotations

import argparse
import json


def _methods(run):
    methods = run.get("api_by_method") or {}
    return " ".join("%s %d" % (m, n) for m, n in sorted(methods.items())) or "-"


def _rows(cases):
    """(section, header, rows) per table."""
    points, registers, planning, export, cabinet_audit = [], [], [], [], []
    for case in cases:
        kind = case.get("case")
        if kind == "points":
            ours = case["ours"]
            for name, base in sorted(case["baselines"].items()):
                points.append([case["phase"], case["latency_ms"], case["points"], "%.2f" % ours["wall_s"], _methods(ours),
                               name + (" (extrapolated)" if "extrapolated_from" in base else ""),
                               "%.1f" % base["wall_s"], _methods(base),
                               "%sx" % case["speedup"].get(name), "%.0f" % ours["peak_rss_mb"]])
            rate_limited = (case.get("variants") or {}).get("rate_limited")
            if rate_limited:
                points.append([case["phase"] + " (%.0f%% 429)" % (rate_limited["p_429"] * 100), case["latency_ms"],
                               case["points"], "%.2f" % rate_limited["wall_s"], _methods(rate_limited), "-", "-", "-", "-",
                               "%.0f" % rate_limited["peak_rss_mb"]])
        elif kind == "registers":
            ours, ping = case["ours"], case["baselines"]["ping"]
            registers.append([case["phase"], case["registers"], "%.2f" % ours["wall_s"], "%.2f" % ping["wall_s"],
                              "%sx" % case["slowdown_vs_ping"], "%sx" % case.get("cpu_ratio_vs_ping"),
                              "%d/%d" % (ours["ssh_execs"], ours["ssh_execs_per_host_max"]),
                              ours["api_by_route"].get("GET /api/v1/retail-points", 0), _methods(ours),
                              "%.0f" % ours["peak_rss_mb"]])
            naive = (case.get("variants") or {}).get("names_per_register")
            if naive:
                registers.append([case["phase"] + " (names on every register)", case["registers"],
                                  "%.2f" % naive["wall_s"], "%.2f" % ping["wall_s"],
                                  "%sx" % round(naive["wall_s"] / ping["wall_s"], 2), "-",
                                  "%d/%d" % (naive["ssh_execs"], naive["ssh_execs_per_host_max"]),
                                  naive["api_by_route"].get("GET /api/v1/retail-points", 0), _methods(naive),
                                  "%.0f" % naive["peak_rss_mb"]])
        elif kind == "cabinet_audit":
            runs = case["runs"]
            ssh = runs["ssh_audit"]
            for name in ["ssh_audit", "cabinet_audit_same_hosts"] + ["%s_%d" % (kind, count) for count in case["counts"]
                                                                     for kind in ("cabinet_audit", "role_play", "task_only", "floor")
                                                                     if "%s_%d" % (kind, count) in runs]:
                run = runs[name]
                cabinet_audit.append([name, "%.2f" % run["wall_s"], "%.2f" % run["controller_cpu_s"],
                                      "%sx" % round(ssh["wall_s"] / run["wall_s"], 2), _methods(run),
                                      "%d/%d" % (run["ssh_execs"], run["ssh_execs_per_host_max"]),
                                      sum(1 for n in run["changed"].values() if n), "%.0f" % run["peak_rss_mb"]])
        elif kind == "planning":
            planner, audit = case["in_process"], case["module_audit_noop"]
            creates, as_vars = case["module_plan_all_creates"], case.get("module_audit_noop_points_as_variables") or {}
            planning.append([case["points"], "%.3f" % planner["timings"]["total_s"], "%.0f" % planner["peak_rss_mb"],
                             "%.2f" % audit["wall_s"], "%.0f" % audit["peak_rss_mb"], _methods(audit),
                             "%.2f" % creates["wall_s"], "%.0f" % creates["peak_rss_mb"],
                             "%.2f" % as_vars.get("wall_s", 0), "%.0f" % as_vars.get("peak_rss_mb", 0)])
        elif kind == "export":
            ours, base = case["ours"], case["baselines"]["info_to_nice_yaml"]
            export.append([case["phase"], case["points"], case["registers"], "%.2f" % ours["wall_s"], _methods(ours),
                           "%.2f" % base["wall_s"], _methods(base), "%.0f" % ours["peak_rss_mb"]])
    return [
        ("Points (case 1): ours = modulkassa.pos.retail_points, one task",
         ["phase", "latency ms", "points", "ours s", "ours API", "baseline", "baseline s", "baseline API", "faster",
          "ours RSS MB"], points),
        ("Registers (case 2): ours vs ansible.builtin.ping over the same hosts",
         ["phase", "registers", "ours s", "ping s", "ours/ping", "CPU ours/ping", "SSH execs total/per host max",
          "cabinet lists", "ours API", "ours RSS MB"], registers),
        ("Audit from the cabinet (case 4): playbooks/registers.yml in check mode, SSH vs cabinet, and the floor",
         ["run", "wall s", "controller CPU s", "SSH audit / this", "API", "SSH execs total/per host max",
          "hosts changed", "RSS MB"], cabinet_audit),
        ("Planning (case 3): in-process planner and the module in check mode",
         ["points", "planner s", "planner RSS MB", "audit s (points_file)", "audit RSS MB", "audit API",
          "plan all creates s", "creates RSS MB", "audit s (as variables)", "as variables RSS MB"], planning),
        ("Export: ours = playbooks/export.yml; baseline = retail_point_info + copy of to_nice_yaml",
         ["phase", "points", "registers", "ours s", "ours API", "baseline s", "baseline API", "ours RSS MB"], export),
    ]


def _table(header, rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in [h] + [r[i] for r in rows]) for i, h in enumerate(header)]
    fmt = "  ".join("%%-%ds" % w for w in widths)
    return "\n".join([fmt % tuple(header)] + [fmt % tuple(str(c) for c in row) for row in rows])


def targets(cases):
    found = []
    for case in cases:
        label = "%s/%s" % (case.get("case"), case.get("phase", ""))
        size = case.get("points") if case.get("case") not in ("registers", "cabinet_audit") else case.get("registers")
        for target in case.get("targets", []):
            found.append((label.rstrip("/"), size, case.get("latency_ms"), target))
    return found


def render(document, markdown=False):
    cases = document.get("cases", [])
    out = []
    for title, header, rows in _rows(cases):
        if rows:
            out.append(("### " if markdown else "== ") + title)
            out.append(_table(header, rows, markdown))
            out.append("")
    rows = []
    for label, size, latency, target in targets(cases):
        status = "info" if target.get("informational") else ("MET" if target["met"] else "NOT MET")
        rows.append([status, label, size, "-" if latency is None else latency, target["target"],
                     json.dumps(target.get("value"), ensure_ascii=False), target.get("limit", "-")])
    if rows:
        out.append(("### " if markdown else "== ") + "Targets")
        out.append(_table(["status", "case", "size", "latency ms", "target", "value", "limit"], rows, markdown))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    with open(args.results) as handle:
        print(render(json.load(handle), markdown=args.markdown))


if __name__ == "__main__":
    main()
