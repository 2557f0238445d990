# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report in Markdown: the summary a pull request (or an AWX job's output) shows.

``render_markdown`` takes the report dict of ``_drift_collector.DriftCollector.report()`` (already masked) and
writes the verdict, then one table per kind (retail points, registers, other changes, notices, points kept by the
purge guards, failures, health), each capped at ``max_rows``. Cell text is escaped, values are code.
"""

from __future__ import annotations

import json
import re

from ansible_collections.modulkassa.pos.plugins.module_utils._health import API_FIELDS

_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]<>|])")


def _md_text(text):
    """Plain text for a table cell: Markdown and HTML specials escaped, one line."""
    return _MD_SPECIAL_RE.sub(r"\\\1", " ".join(str(text).split()))


def _md_value(value):
    """A value in a table cell, as code (exact), or an em dash for "not set"."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        if not value:
            return "(none)"
        return "<br>".join(_md_value(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    if text == "":
        return '`""`'
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    return "%s%s%s" % (fence, (" %s " % text) if fence == "``" else text, fence)


_FIELD_LABELS = {"retail_points": "retail points", "tax_mode": "tax mode", "vat_tag": "VAT tag",
                 "fiscal_service_enabled": "fiscal service", "inn": "INN", "kpp": "KPP"}


def _field(name, change=None):
    """A field's label; with ``--since``, where it changed (``origin_text``, from _plan_file.label_origins)."""
    label = _FIELD_LABELS.get(name, str(name).replace("_", " "))
    origin = change.get("origin_text") if isinstance(change, dict) else None
    return "%s (*%s*)" % (label, origin) if origin else label


def _action_text(action):
    text = "%s %s" % (action.get("action"), action.get("retail_point") or action.get("id"))
    if action.get("previous_register") and action.get("action") == "rebind":
        text += " (from %s)" % action["previous_register"]
    if action.get("outcome") in ("failed", "not_attempted"):
        text += " (%s)" % action["outcome"].replace("_", " ")
    return _md_text(text)


def render_markdown(report, max_rows=200):
    """The Markdown summary of a report (from ``DriftCollector.report()``); tables capped at ``max_rows``."""
    check = report["mode"] == "check"
    now, then = ("now", "declared") if check else ("before", "after")
    summary = report["summary"]
    status = report["status"]
    lines = []
    if status == "error" and summary.get("recap_disagreements") and not (summary["failures"] or summary["unreachable"]):
        title = "error: the report disagrees with the play recap"
    elif status == "error":
        title = "errors: %d failed task(s), %d unreachable host(s)" % (summary["failures"], summary["unreachable"])
    elif status == "drift":
        counted = [(summary["retail_points"], "retail point(s)"), (summary["registers"], "register(s)"),
                   (summary["other_changes"], "other task(s)")]
        title = "%s %s" % (", ".join("%d %s" % (n, what) for n, what in counted if n),
                           "would change" if check else "changed")
    else:
        title = "no drift" if check else "no changes"
    lines.append("## ModulKassa drift report: %s" % title)
    lines.append("")
    mode = {"check": "check mode (nothing was changed)", "apply": "apply mode (changes were made)"}[report["mode"]]
    lines.append("%s · exit code **%d** · playbook %s · %s" % (
        mode, report["exit_code"], _md_value(report.get("playbook") or "?"), report["generated_at"]))
    lines.append("")
    if status != "error" and not summary["changes"]:
        lines.append("The retail points and registers %s the declared state." % ("match" if check else "already matched"))
        lines.append("")
    kept = report.get("kept") or []
    if kept:
        lines.append("The purge kept %d point(s) that the data does not declare (\"Kept by the purge guards\" below): "
                     "not drift, a run would keep them again." % len(kept))
        lines.append("")

    rows = []
    for point in report["retail_points"]:
        name = _md_text(point.get("name") or point.get("id") or "?")
        action = _md_text(point.get("action") or "")
        if point.get("outcome") in ("failed", "not_attempted"):
            action += " (%s)" % point["outcome"].replace("_", " ")
        changes = point.get("changes") or {"(unknown)": {}}
        for field, change in changes.items():
            rows.append("| %s | %s | %s | %s | %s |" % (
                name, action, _field(field, change), _md_value(change.get("before")), _md_value(change.get("after"))))
    _table(lines, "Retail points (%d)" % len(report["retail_points"]),
           "| retail point | action | field | %s | %s |" % (now, then), "|---|---|---|---|---|", rows, max_rows)

    rows = []
    for register in report["registers"]:
        actions = "<br>".join(_action_text(a) for a in register.get("actions") or []) or "\u2014"
        for field, change in (register.get("changes") or {"(unknown)": {}}).items():
            rows.append("| %s | %s | %s | %s | %s | %s |" % (
                _md_text(register["host"]) + (" (not in the inventory)" if register.get("declared") is False else ""),
                _md_value(register.get("serial")), _field(field, change),
                _md_value(change.get("before")), _md_value(change.get("after")), actions))
    _table(lines, "Registers (%d)" % len(report["registers"]),
           "| register | serial | field | %s | %s | actions |" % (now, then), "|---|---|---|---|---|---|", rows, max_rows)

    # Not drift (the exit code ignores them): values the cabinet holds that the user should change.
    rows = ["| %s | %s |" % (_md_text(n.get("name") or n.get("id") or "?"), _md_text(n["notice"]))
            for n in report.get("notices") or []]
    _table(lines, "Notices (%d)" % len(rows), "| retail point | notice |", "|---|---|", rows, max_rows)
    _health_section(lines, report.get("health"), max_rows)

    # Not drift either: points the purge would delete but a guard keeps (active, under registration, excluded).
    rows = ["| %s | %s | kept: %s |" % (_md_text(k.get("name") or k.get("id") or "?"), _md_value(k.get("id")),
                                        _md_text(k["reason"])) for k in kept]
    _table(lines, "Kept by the purge guards (%d)" % len(rows), "| retail point | id | purge |", "|---|---|---|",
           rows, max_rows)

    changed_other = [c for c in report["other_changes"] if c["changed"]]
    rows = ["| %s | %s | %s |" % (_md_text(c["host"]), _md_text(c["task"]), _md_value(c.get("action")))
            for c in changed_other]
    _table(lines, "Other changed tasks (%d)" % len(changed_other), "| host | task | action |", "|---|---|---|",
           rows, max_rows)
    diffs = [c for c in changed_other if c.get("diff")]
    for change in diffs[:20]:
        lines.extend(["<details><summary>%s: %s</summary>" % (_md_text(change["host"]), _md_text(change["task"])),
                      "", "```diff", change["diff"].replace("```", "` ` `"), "```", "", "</details>", ""])

    disagreements = report.get("recap_disagreements") or []
    if disagreements:
        lines.extend(["### The report disagrees with the play recap", "",
                      "Some task results did not reach the report (see the run's warnings), so it cannot tell what "
                      "would change: treat the run as failed.", ""])
        lines.extend("* %s" % _md_text(problem) for problem in disagreements)
        lines.append("")

    rows = ["| %s | %s | %s%s |" % (
        _md_text(f["host"]), _md_text(f["task"]), "(ignored) " if f.get("ignored") else "", _md_text(f["msg"]))
        for f in report["failures"]]
    _table(lines, "Failures (%d)" % len(report["failures"]), "| host | task | message |", "|---|---|---|", rows, max_rows)
    rows = ["| %s | %s | %s |" % (_md_text(u["host"]), _md_text(u["task"]), _md_text(u["msg"]))
            for u in report["unreachable"]]
    _table(lines, "Unreachable hosts (%d)" % len(report["unreachable"]), "| host | task | message |", "|---|---|---|",
           rows, max_rows)
    return "\n".join(lines).rstrip() + "\n"


def _health_section(lines, health, max_rows):
    """Register health (not drift): counts by state, then one row per finding of each point, worst first."""
    if not isinstance(health, dict) or not health.get("summary", {}).get("points"):
        return
    summary = health["summary"]
    if summary["points_in_trouble"]:
        title = "%d point(s) in trouble on %d register(s), worst: %s" % (
            summary["points_in_trouble"], summary["registers_in_trouble"], health["severity"])
    else:
        title = "no trouble"
    lines.extend(["### Register health: %s" % title, ""])
    if health.get("failing"):
        lines.extend(["Health at or above **%s** fails this run (exit code 3)." % _md_text(health["fail_on"]), ""])
    elif summary["points_in_trouble"]:
        lines.extend(["Health trouble is not drift: it leaves the exit code alone (`modulkassa-plan "
                      "--fail-on-health` makes it fail the run).", ""])
    for field, name in API_FIELDS.items():
        counts = (health.get("counts") or {}).get(field) or {}
        lines.append("%s (%d point(s)): %s  " % (name, summary["points"], " · ".join(
            "%s %d" % (_md_value(state), count) for state, count in counts.items())))
    lines.append("")
    rows = []
    for point in health.get("points") or []:
        register = point.get("register_serial")
        register = ("%s (%s)" % (_md_text(point["register_host"]), _md_value(register)) if point.get("register_host")
                    else _md_value(register) if register else "(none)")
        for finding in point.get("findings") or []:
            state = "%s %s" % (API_FIELDS.get(finding["field"], finding["field"]), _md_value(finding["state"]))
            if finding.get("label"):
                state += " (%s)" % _md_text(finding["label"])
            rows.append("| %s | %s | %s | %s | %s |" % (
                _md_text(point.get("name") or point.get("id") or "?"), register, state, _md_text(finding["severity"]),
                _md_text(finding.get("action") or "")))
    if rows:
        lines.extend(["| retail point | register | state | severity | what to do |", "|---|---|---|---|---|"])
        lines.extend(rows[:max_rows])
        if len(rows) > max_rows:
            lines.extend(["", "... and %d more row(s): see the JSON report." % (len(rows) - max_rows)])
        lines.append("")


def _table(lines, title, header, rule, rows, max_rows):
    if not rows:
        return
    lines.extend(["### " + title, "", header, rule])
    lines.extend(rows[:max_rows])
    if len(rows) > max_rows:
        lines.append("")
        lines.append("... and %d more row(s): see the JSON report." % (len(rows) - max_rows))
    lines.append("")
