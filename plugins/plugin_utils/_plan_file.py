# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The saved plan and the applied record, written by the drift_report callback; the drift labels of ``--since``.

``modulkassa-plan --out PLAN.json`` runs the audit with ``modulkassa_record_plan`` set: retail_points and register
then return their plan entries (``plan``), fleet_validate the digest of the desired data, and ``PlanCollector``
turns them into the plan file (format in docs/gitops.md "Saved plans"). ``--apply`` writes the applied record the
same way from the apply's results. ``--since APPLIED.json`` labels every drifted field of the report with where it
changed: in the cabinet outside git, in git and not yet applied, or both (``label_origins``).
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import point_name_key
from ansible_collections.modulkassa.pos.plugins.module_utils._saved_plan import (
    APPLIED_FORMAT,
    FORMAT,
    FORMAT_VERSION,
    content_digest,
)

ORIGINS = {
    "cabinet": "changed in the cabinet outside git",
    "git": "changed in git, not yet applied",
    "both": "changed in the cabinet outside git and in git",
}


def _short_action(action):
    return str(action or "").rsplit(".", 1)[-1]


class PlanCollector(object):
    """The ``plan`` entries of a run's results, and what the run says about its own basis."""

    def __init__(self):
        self.points = {}
        self.applied_points = {}
        self.registers = {}
        self.header = None
        self.desired_digest = None
        self.problems = []

    def add(self, host, action, result):
        name = _short_action(action)
        if name == "fleet_validate" and isinstance(result.get("desired_digest"), str):
            self.desired_digest = result["desired_digest"]
        plan = result.get("plan")
        if name not in ("retail_points", "register") or not isinstance(plan, dict):
            return
        header = {"login": plan.get("login"), "collection_version": plan.get("collection_version")}
        if self.header is None:
            self.header = header
        elif header != self.header:
            self.problems.append("the run used more than one account or collection version (%s, %s)" % (
                self.header, header))
        if name == "retail_points":
            for entry in plan.get("points") or []:
                self.points[entry["id"]] = entry
            for entry in plan.get("applied") or []:
                self.applied_points[entry["id"]] = entry
        else:
            entry = dict(plan.get("register") or {}, host=host)
            self.registers[entry.get("serial")] = entry  # the apply's result replaces the check before it

    def _basis(self):
        if self.header is None:
            self.problems.append("no retail_points or register task returned its plan")
        if self.desired_digest is None:
            self.problems.append("no fleet_validate task gave the desired data's digest (run modulkassa.pos.audit or "
                                 "a playbook that imports modulkassa.pos.validate)")
        return dict(self.header or {}, desired_digest=self.desired_digest)

    def plan_document(self, created_at):
        """The saved plan; byte-stable for the same inputs but for ``created_at``. ``problems`` says why it is
        unusable (then the wrapper writes no file)."""
        document = dict(self._basis(), format=FORMAT, format_version=FORMAT_VERSION, created_at=created_at)
        document["points"] = [self.points[key] for key in sorted(self.points)]
        document["registers"] = [self.registers[key] for key in sorted(self.registers, key=str)]
        writes = [p for p in document["points"] if p.get("action") in ("create", "update", "delete")]
        document["summary"] = {
            "points": len(document["points"]), "point_writes": len(writes),
            "registers": len(document["registers"]),
            "binding_actions": sum(len(r.get("actions") or []) for r in document["registers"]),
        }
        document["content_digest"] = content_digest(document)
        return document

    def applied_document(self, created_at, plan_digest=None):
        """The applied record: the managed state the apply left, per point and register, with fingerprints."""
        document = dict(self._basis(), format=APPLIED_FORMAT, format_version=FORMAT_VERSION, created_at=created_at,
                        plan_digest=plan_digest)
        document["points"] = [self.applied_points[key] for key in sorted(self.applied_points)]
        document["registers"] = [{"serial": r.get("serial"), "host": r.get("host"), "retail_points": r.get("after"),
                                  "outcomes": r.get("outcomes")}
                                 for r in (self.registers[key] for key in sorted(self.registers, key=str))]
        document["content_digest"] = content_digest(document)
        return document


def _origin(before, after, recorded):
    cabinet, git = before != recorded, after != recorded
    if cabinet and git:
        return "both"
    if cabinet:
        return "cabinet"
    return "git" if git else None


def label_origins(report, record):
    """Label each drifted field of the report (``changes[field]["origin"]`` and ``origin_text``) by comparing the
    cabinet's value (before) and the data's (after) with what the last apply left (``record``)."""
    by_id = dict((str(p.get("id")).lower(), p) for p in record.get("points") or [] if isinstance(p, dict))
    by_name = dict((point_name_key(p["name"]), p) for p in by_id.values() if isinstance(p.get("name"), str))
    for point in report.get("retail_points") or []:
        recorded = by_id.get(str(point.get("id")).lower())
        if recorded is None and isinstance(point.get("name"), str):
            recorded = by_name.get(point_name_key(point["name"]))
        if recorded is not None and recorded.get("fields") is None:
            recorded = None  # deleted by the apply: absent since
        for field, change in (point.get("changes") or {}).items():
            if not isinstance(change, dict):
                continue
            if field == "state":
                value = "present" if recorded is not None else "absent"
            elif field in ((recorded or {}).get("fields") or {}) or recorded is None:
                value = ((recorded or {}).get("fields") or {}).get(field)
            else:
                continue  # a field the record does not hold (the register a delete takes): no label
            _label(change, _origin(change.get("before"), change.get("after"), value))
    registers = dict((r.get("serial"), r) for r in record.get("registers") or [] if isinstance(r, dict))
    for register in report.get("registers") or []:
        recorded = registers.get(register.get("serial"))
        change = (register.get("changes") or {}).get("retail_points")
        if recorded is None or not isinstance(change, dict):
            continue
        _label(change, _origin(sorted(change.get("before") or []), sorted(change.get("after") or []),
                               sorted(recorded.get("retail_points") or [])))
    report["since"] = {"record": record.get("created_at"), "plan_digest": record.get("plan_digest")}


def _label(change, origin):
    if origin:
        change["origin"] = origin
        change["origin_text"] = ORIGINS[origin]
