# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift summary that ``site.yml`` and ``audit.yml`` publish with ``ansible.builtin.set_stats``.

AWX keeps a job's ``set_stats`` data as its artifacts and hands them to the next nodes of a workflow as extra
variables, so a workflow can branch on drift and a notification can show it (docs/awx.md). The summary is small
(counts, and one verdict per object that is not unchanged) and holds no secret: no values, no messages.

``drift_summary`` builds it from the registered results of the roles' plugins. The verdict of the run (status,
exit code, mode) and the register health (``health``: counts by state and the points and registers in trouble, by
name, id, serial and state) come from the drift report's ``DriftCollector``, fed with the same results, so the
summary and the report (``tools/modulkassa-plan``) always agree. Pure Python: unit tests drive it with plain dicts.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._health import KKT_FIELD, REGISTRATION_FIELD, SEVERITIES
from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_collector import EXIT_ERROR, DriftCollector

FORMAT = "modulkassa.pos.drift_summary/1"
POINTS_ACTION = "modulkassa.pos.retail_points"
REGISTER_ACTION = "modulkassa.pos.register"
LISTING_ACTION = "modulkassa.pos.retail_point_info"
AUDIT_ACTION = "modulkassa.pos.bindings_audit"
# What the summary keeps of each point and register in trouble (states, never the advice text: extra variables are
# shown in every later job, and the drift report has the words).
HEALTH_POINT_KEYS = ("name", "id", "register_serial", "register_host", KKT_FIELD, REGISTRATION_FIELD, "severity")
HEALTH_REGISTER_KEYS = ("serial", "host", "severity", "retail_points", "states")
POINT_VERDICTS = ("create", "update", "delete", "unchanged", "absent", "keep", "failed")
REGISTER_VERDICTS = ("changed", "unchanged", "failed", "unreachable", "not_run")
DEFAULT_MAX_OBJECTS = 500


def _status_of(result):
    if not isinstance(result, dict) or result.get("skipped"):
        return "skipped"
    if result.get("unreachable"):
        return "unreachable"
    if result.get("failed"):
        return "failed"
    return "changed" if result.get("changed") else "ok"


def _point_verdict(entry):
    return "failed" if entry.get("outcome") == "failed" else str(entry.get("action") or "unchanged")


def _register_verdict(result, failed_in_play):
    status = _status_of(result)
    if status == "unreachable":
        return "unreachable"
    if status == "failed" or failed_in_play:
        return "failed"
    if status == "changed":
        return "changed"
    return "unchanged" if status in ("ok", "skipped") and result is not None else "not_run"


def _mode(check_mode):
    return "check" if check_mode else "apply"


def unfinished(check_mode=False):
    """What a run publishes before it starts: a run that stops part-way leaves this, never a false "no drift"."""
    return {
        "format": FORMAT,
        "finished": False,
        "mode": _mode(check_mode),
        "status": "error",
        "exit_code": EXIT_ERROR,
        "summary": {"retail_points": dict((v, 0) for v in POINT_VERDICTS),
                    "registers": dict((v, 0) for v in REGISTER_VERDICTS)},
        "retail_points": [],
        "registers": [],
        "omitted": 0,
        # "unknown": the run did not get to read the points; never a false "no trouble".
        "health": {"severity": "unknown", "trouble": False,
                   "summary": {"points": 0, "points_in_trouble": 0, "registers_in_trouble": 0, "points_informational": 0},
                   "counts": {KKT_FIELD: {}, REGISTRATION_FIELD: {}, "severity": dict((s, 0) for s in SEVERITIES)},
                   "points": [], "registers": [], "omitted": 0},
    }


def _health(report_health, max_objects):
    """The report's ``health`` for ``set_stats``: the points and registers in trouble (states only), capped."""
    points = [dict((key, point.get(key)) for key in HEALTH_POINT_KEYS)
              for point in report_health["points"] if point["trouble"]]
    registers = [dict((key, register.get(key)) for key in HEALTH_REGISTER_KEYS) for register in report_health["registers"]]
    shown = max(0, int(max_objects))
    return {
        "severity": report_health["severity"],
        "trouble": report_health["trouble"],
        "summary": report_health["summary"],
        "counts": report_health["counts"],
        "points": points[:shown],
        "registers": registers[:max(0, shown - len(points))],
        "omitted": max(0, len(points) + len(registers) - shown),
    }


def drift_summary(points_result=None, register_results=None, failed_registers=(), check_mode=False,
                  max_objects=DEFAULT_MAX_OBJECTS, cabinet_listing=None, cabinet_audit=None):
    """The summary of a finished run.

    ``points_result``: the registered result of ``modulkassa.pos.retail_points`` (None when the run had no points
    play). ``register_results``: ``{host: registered result of modulkassa.pos.register, or None}`` for every host
    of the registers play. ``failed_registers``: the hosts that play lost (failed or unreachable, at any task).
    ``cabinet_listing``: the registered result of the registers role's ``modulkassa.pos.retail_point_info`` (its
    health is in the drift report too). ``cabinet_audit``: the registered result of its ``modulkassa.pos.bindings_audit``
    (registers with ``modulkassa_registers_via: cabinet``, whose ``register`` task is skipped): its entries are those
    registers' results, and a register the data does not declare is listed with ``host`` null. Only objects whose
    verdict is not ``unchanged`` are listed, at most ``max_objects`` of them; ``omitted`` counts the rest (``health``
    caps its own lists the same way).
    """
    check_mode = bool(check_mode)
    register_results = dict(register_results or {})
    failed_registers = set(failed_registers or ())
    collector = DriftCollector()
    collector.cli_check_mode = check_mode
    summary = unfinished(check_mode)["summary"]
    points, registers = [], []

    if isinstance(points_result, dict) and not points_result.get("skipped"):
        collector.add("localhost", "retail points", POINTS_ACTION, _status_of(points_result), points_result,
                      check_mode=check_mode)
        for entry in points_result.get("results") or []:
            if not isinstance(entry, dict):
                continue
            verdict = _point_verdict(entry)
            summary["retail_points"][verdict] = summary["retail_points"].get(verdict, 0) + 1
            if verdict != "unchanged":
                points.append({"name": entry.get("name"), "id": entry.get("id"), "verdict": verdict})

    if _status_of(cabinet_listing) == "ok":
        # Read-only: it adds the health of the points it listed, nothing else (as in the drift report; a failed
        # listing fails the registers, which are counted above).
        collector.add("localhost", "cabinet listing", LISTING_ACTION, "ok", cabinet_listing, check_mode=check_mode)

    audited, undeclared = {}, []
    if _status_of(cabinet_audit) != "skipped":
        # As the drift report reads it: one result, an entry per register in the shape of register's.
        collector.add("localhost", "cabinet audit", AUDIT_ACTION, _status_of(cabinet_audit), cabinet_audit,
                      check_mode=check_mode)
        for entry in cabinet_audit.get("registers") or []:
            if isinstance(entry, dict) and entry.get("host"):
                audited[str(entry["host"])] = entry
            elif isinstance(entry, dict):
                undeclared.append(entry)

    for host in sorted(set(register_results) | failed_registers):
        result = register_results.get(host)
        from_audit = host in audited and _status_of(result) == "skipped"  # None (not run) is skipped too
        if from_audit:
            result = audited[host]  # its bindings were audited from the cabinet, not over SSH
        failed_in_play = host in failed_registers
        verdict = _register_verdict(result, failed_in_play)
        summary["registers"][verdict] += 1
        status = _status_of(result)
        if isinstance(result, dict) and status != "skipped" and not from_audit:
            collector.add(host, "register", REGISTER_ACTION, status, result, check_mode=check_mode)
        if failed_in_play and status not in ("failed", "unreachable"):
            # The host failed at another task (e.g. its points were not converged): the run is an error.
            collector.add(host, "register", REGISTER_ACTION, "failed", {"failed": True, "msg": "not converged"},
                          check_mode=check_mode)
        if verdict != "unchanged":
            registers.append({"host": host, "serial": result.get("serial") if isinstance(result, dict) else None,
                              "verdict": verdict})
    for entry in undeclared:  # a register no inventory host has, holding a managed point: all it holds goes
        verdict = _register_verdict(entry, False)
        summary["registers"][verdict] += 1
        if verdict != "unchanged":
            registers.append({"host": None, "serial": entry.get("serial"), "verdict": verdict})

    report = collector.report()
    objects = points + registers
    shown = max(0, int(max_objects))
    summary.update(changes=report["summary"]["changes"], failures=report["summary"]["failures"],
                   unreachable=report["summary"]["unreachable"])
    published = {
        "format": FORMAT,
        "finished": True,
        "mode": report["mode"],
        "status": report["status"],
        "exit_code": report["exit_code"],
        "summary": summary,
        "retail_points": points[:shown],
        "registers": registers[:max(0, shown - len(points))],
        "omitted": max(0, len(objects) - shown),
        "health": _health(report["health"], max_objects),
    }
    return collector.masker.data(published)
