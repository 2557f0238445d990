# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case 1, points: N declared points (default 1,000), first converge / no-op re-run / check-mode audit, at each
emulator latency (default 0 and 20 ms), each beside its baselines measured in the same run:

* ``sequential_writes``: ``modulkassa.pos.retail_points`` with ``concurrency: 1`` (the same code, one write at
  a time): the yardstick of the converge target. Measured in full.
* ``uri_loop``: a hand-written playbook, ``ansible.builtin.uri`` in a loop: GET each point by id, then POST the
  missing ones and PUT the ones that differ (``when:``); the audit runs the GETs with ``check_mode: false``.
* ``retail_point_loop``: ``modulkassa.pos.retail_point`` in a loop, one task run per point.

The two loops cost about 0.1-0.3 s per item, so they run on a subset (default 100 items, and 10 for the fit)
against a cabinet that holds the other points too, and are extrapolated linearly to N:
``T(N) = T(100) + (N - 100) * (T(100) - T(10)) / 90``; the JSON says so (``extrapolated_from``).

Ours runs ``--repeat`` times per phase (median reported, all samples kept): the machine is shared.
Prints one JSON object per (phase, latency).
"""

from __future__ import annotations

import argparse

from lib import (
    Emulator,
    Runner,
    api_body,
    declared_points,
    emit,
    log,
    machine,
    median_run,
    ratio,
    run_in_workspace,
)

OURS = [{"name": "Converge retail points", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "Retail points are as declared", "modulkassa.pos.retail_points": {
        "points": "{{ bench_points }}", "concurrency": "{{ bench_concurrency | default(omit) }}"}}]}]

RETAIL_POINT_LOOP = [{"name": "One task per point", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "Retail point is as declared", "modulkassa.pos.retail_point": {
        "name": "{{ item.name }}", "address": "{{ item.address }}", "phone": "{{ item.phone }}",
        "inn": "{{ item.inn }}", "kpp": "{{ item.kpp | default(omit) }}", "tax_mode": "{{ item.tax_mode }}",
        "vat_tag": "{{ item.vat_tag }}", "fiscal_service_enabled": "{{ item.fiscal_service_enabled }}"},
     "loop": "{{ bench_points }}", "loop_control": {"label": "{{ item.name }}"}}]}]

_AUTH = {"url_username": "{{ lookup('env', 'MODULKASSA_LOGIN') }}",
         "url_password": "{{ lookup('env', 'MODULKASSA_PASSWORD') }}", "force_basic_auth": True}
_BASE = "{{ lookup('env', 'MODULKASSA_URL') }}"
# What a careful hand-written playbook compares: every managed field, nested settings included.
_DIFFERS = ("item.json.name != item.item.name or item.json.address != item.item.address"
            " or item.json.phone != item.item.phone or item.json.inn != item.item.inn"
            " or item.json.settings.defaultTaxMode != item.item.settings.defaultTaxMode"
            " or item.json.settings.defaultVatTag != item.item.settings.defaultVatTag"
            " or item.json.settings.fiscalServiceEnabled != item.item.settings.fiscalServiceEnabled"
            " or (item.json.settings.egaisSettings | default({})).kpp | default(none)"
            " != (item.item.settings.egaisSettings | default({})).kpp | default(none)")
URI_LOOP = [{"name": "Hand-written: uri in a loop", "hosts": "localhost", "gather_facts": False, "tasks": [
    dict({"name": "Read each point", "ansible.builtin.uri": dict(_AUTH, **{
        "url": _BASE + "/api/v1/retail-point/{{ item.id }}", "status_code": [200, 404]}),
          "loop": "{{ bench_bodies }}", "loop_control": {"label": "{{ item.name }}"}, "register": "current",
          "check_mode": False}),
    {"name": "Create the missing points", "ansible.builtin.uri": dict(_AUTH, **{
        "url": _BASE + "/api/v1/retail-points", "method": "POST", "body_format": "json",
        "body": "{{ item.item }}", "status_code": [200]}),
     "loop": "{{ current.results }}", "loop_control": {"label": "{{ item.item.name }}"},
     "when": "item.status == 404", "changed_when": True},
    {"name": "Update the points that differ", "ansible.builtin.uri": dict(_AUTH, **{
        "url": _BASE + "/api/v1/retail-point/{{ item.item.id }}", "method": "PUT", "body_format": "json",
        "body": "{{ item.item }}", "status_code": [200]}),
     "loop": "{{ current.results }}", "loop_control": {"label": "{{ item.item.name }}"},
     "when": "item.status == 200 and (%s)" % _DIFFERS, "changed_when": True},
]}]


def extrapolate(small, large, n_small, n_large, n_target):
    """Linear fit through two loop sizes, evaluated at ``n_target``."""
    def line(a, b):
        return b + (n_target - n_large) * (b - a) / float(n_large - n_small)

    by_method = {}
    for method in set(small["api_by_method"]) | set(large["api_by_method"]):
        by_method[method] = int(round(line(small["api_by_method"].get(method, 0), large["api_by_method"].get(method, 0))))
    return {
        "rc": max(small["rc"], large["rc"]),
        "wall_s": round(line(small["wall_s"], large["wall_s"]), 2),
        "api_requests": sum(by_method.values()),
        "api_by_method": dict(sorted(by_method.items())),
        "peak_rss_mb": max(small["peak_rss_mb"], large["peak_rss_mb"]),
        "extrapolated_from": {"items": [n_small, n_large], "wall_s": [small["wall_s"], large["wall_s"]],
                              "api_requests": [small["api_requests"], large["api_requests"]],
                              "note": "linear: T(N) = T(%d) + (N - %d) * slope of the two runs; peak RSS is the "
                                      "larger measured one, not extrapolated" % (n_large, n_large)},
    }


class PointsBench(object):

    def __init__(self, args, workdir):
        self.args = args
        self.emulator = Emulator(workdir)
        self.runner = Runner(workdir, self.emulator, forks=args.forks)
        self.points = declared_points(args.points)
        self.bodies = [api_body(p) for p in self.points]

    def reset(self, latency, present=()):
        """An empty cabinet (or holding ``present`` bodies), latency set."""
        self.emulator.wipe()
        if present:
            self.emulator.seed(present)
        self.emulator.knobs(latency_ms=latency)

    def ours(self, phase, latency, concurrency=None, label="ours"):
        extra = {"bench_points": self.points}
        if concurrency is not None:
            extra["bench_concurrency"] = concurrency
        return self.runner.run(OURS, extra_vars=extra, check=phase == "check", diff=phase == "check",
                               label="%s-%s-%d" % (label, phase, latency))

    def loop_baselines(self, latency):
        """{phase: {"uri_loop": ..., "retail_point_loop": ...}} on the subset, extrapolated to N."""
        n_large, n_small, n_total = self.args.subset, self.args.fit_small, self.args.points
        others = self.bodies[n_large:]  # the rest of the chain is already in the cabinet
        results = {"converge": {}, "noop": {}, "check": {}}
        for name, playbook in (("uri_loop", URI_LOOP), ("retail_point_loop", RETAIL_POINT_LOOP)):
            measured = {}
            for size in (n_small, n_large):
                extra = {"bench_points": self.points[:size], "bench_bodies": self.bodies[:size]}
                self.reset(latency, present=others)
                log("  %s x%d: converge" % (name, size))
                measured.setdefault("converge", {})[size] = self.runner.run(playbook, extra_vars=extra,
                                                                            label="%s-%d" % (name, size))
                log("  %s x%d: no-op" % (name, size))
                measured.setdefault("noop", {})[size] = self.runner.run(playbook, extra_vars=extra,
                                                                        label="%s-noop-%d" % (name, size))
                log("  %s x%d: check" % (name, size))
                measured.setdefault("check", {})[size] = self.runner.run(playbook, extra_vars=extra, check=True,
                                                                         diff=True, label="%s-check-%d" % (name, size))
            for phase in results:
                results[phase][name] = extrapolate(measured[phase][n_small], measured[phase][n_large],
                                                   n_small, n_large, n_total)
        return results

    def stop(self):
        self.emulator.stop()

    def run(self):
        for latency in self.args.latencies:
            log("points: latency %d ms, %d points" % (latency, self.args.points))
            ours = {"converge": [], "noop": [], "check": []}
            for attempt in range(self.args.repeat):
                self.reset(latency)
                log("  ours: converge #%d" % (attempt + 1))
                ours["converge"].append(self.ours("converge", latency))
                log("  ours: no-op #%d" % (attempt + 1))
                ours["noop"].append(self.ours("noop", latency))
                log("  ours: check #%d" % (attempt + 1))
                ours["check"].append(self.ours("check", latency))
            self.reset(latency)
            log("  baseline: sequential writes (concurrency 1)")
            sequential = self.ours("converge", latency, concurrency=1, label="sequential")
            loops = self.loop_baselines(latency)
            rate_limited = None
            if self.args.p_429 and latency == max(self.args.latencies):
                self.reset(latency)
                self.emulator.knobs(p_429=self.args.p_429, retry_after_s=1, seed=5)
                log("  ours: converge with %.0f%% of the answers 429 Retry-After: 1" % (self.args.p_429 * 100))
                rate_limited = self.ours("converge", latency, label="ours-429")
                rate_limited["created"] = len(self.emulator.list_points())
                rate_limited["p_429"] = self.args.p_429
            for phase in ("converge", "noop", "check"):
                mine = median_run(ours[phase])
                baselines = dict(loops[phase])
                if phase == "converge":
                    baselines["sequential_writes"] = sequential
                record = {
                    "case": "points", "phase": phase, "points": self.args.points, "latency_ms": latency,
                    "ours": mine, "baselines": baselines,
                    "speedup": dict((name, ratio(b["wall_s"], mine["wall_s"])) for name, b in baselines.items()),
                    "targets": self.targets(phase, latency, mine, baselines),
                    "machine": machine(),
                }
                if phase == "converge" and rate_limited is not None:
                    record["variants"] = {"rate_limited": rate_limited}
                    record["targets"].append({
                        "target": "converge under 429 + Retry-After: every point created, the 429s retried",
                        "value": {"created": rate_limited["created"], "posts": rate_limited["api_by_method"].get("POST")},
                        "met": rate_limited["rc"] == 0 and rate_limited["created"] == self.args.points
                        and rate_limited["api_by_method"].get("POST", 0) > self.args.points})
                emit(record)

    def targets(self, phase, latency, mine, baselines):
        targets = []
        ok = mine["rc"] == 0
        if phase == "check":
            targets.append({"target": "no-op audit of %d points: at most 2 API requests" % self.args.points,
                            "value": mine["api_requests"], "limit": 2, "met": ok and mine["api_requests"] <= 2})
            speed = ratio(baselines["uri_loop"]["wall_s"], mine["wall_s"])
            targets.append({"target": "no-op audit at least 50x faster than the uri loop", "value": speed,
                            "limit": 50, "met": ok and speed is not None and speed >= 50})
        if phase == "noop":
            targets.append({"target": "no-op re-run: no write, changed=0", "value": mine["api_by_method"],
                            "met": ok and set(mine["api_by_method"]) <= {"GET"} and not any(mine["changed"].values())})
        if phase == "converge" and latency >= 20:
            speed = ratio(baselines["sequential_writes"]["wall_s"], mine["wall_s"])
            targets.append({"target": "first converge at %d ms at least 6x faster than sequential writes" % latency,
                            "value": speed, "limit": 6, "met": ok and speed is not None and speed >= 6})
        return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--latencies", type=lambda s: [int(x) for x in s.split(",")], default=[0, 20],
                        help="emulator latency_ms values, comma-separated (default 0,20)")
    parser.add_argument("--subset", type=int, default=100, help="loop baselines: items measured (default 100)")
    parser.add_argument("--fit-small", type=int, default=10, help="loop baselines: second, smaller size for the fit")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours per phase (median reported)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--p-429", type=float, default=0.02,
                        help="share of 429 answers in the extra rate-limited converge (at the highest latency; 0: skip)")
    args = parser.parse_args(argv)
    run_in_workspace("points", PointsBench, args)


if __name__ == "__main__":
    main()
