# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``PointPlan``: the plan of a set of retail points and its verdict, as plain data.

The plugins ``retail_points`` and ``retail_point`` read the cabinet, make a ``PointPlan`` (``plan_points`` of
_point_planner.py), apply it (``apply``) and return ``result()``. Everything a user sees comes from the plan:
``changed``, the summary, the per-point results, the structured ``changes``, the diff entries (rendered as YAML text
by plugin_utils/_diff.py), the warnings and the failure message. ``to_dict()``/``from_dict()`` carry the plan
through JSON without loss and without a secret (an activation code is kept only as "a code is pending"): a saved
plan (docs/gitops.md) is made of these.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._fingerprint import point_fingerprint
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    GUARD_EXCLUDED,
    KEEP,
    PointChange,
    PurgeRefused,
    apply_plan,
    plan_points,
    summary_of,
)

# What stands for an activation code in a plan's copy of a point: the code is a secret, that one is pending is not.
SEALED = "********"
# Outcomes of the writes that did not happen (``results[].outcome``).
DONE, FAILED, NOT_ATTEMPTED, PREDICTED = "done", "failed", "not_attempted", "predicted"
# A write the re-plan of a saved plan found, that the saved plan does not hold: left alone (docs/gitops.md).
NOT_PLANNED = "not_planned"
_SHOWN = 5
_CHANGE_FIELDS = ("action", "name", "id", "desired", "fields", "source", "outcome", "error", "notices", "guards",
                  "reason")


def without_code(point):
    """The cabinet point with its activation code replaced by ``SEALED`` (None stays None)."""
    if not isinstance(point, dict):
        return point
    cleaned = dict(point)
    if cleaned.get("posLinkToken"):
        cleaned["posLinkToken"] = SEALED
    return cleaned


def change_to_dict(change):
    entry = dict((name, getattr(change, name)) for name in _CHANGE_FIELDS)
    entry["current"] = without_code(change.current)
    entry["point"] = without_code(change.point)
    entry["fingerprint"] = change.fingerprint
    return entry


def change_from_dict(entry):
    change = PointChange(entry["action"], entry.get("name"), entry.get("id"), entry.get("desired") or {},
                         entry.get("current"), entry.get("fields") or [], entry.get("source"))
    for name in ("outcome", "error", "notices", "guards", "reason"):
        if name in entry:
            setattr(change, name, entry[name])
    change.point = entry.get("point")
    change.fingerprint = entry.get("fingerprint") or point_fingerprint(change.current)
    return change


class PointPlan(object):
    """The planned changes of a set of points (``PointChange``, in the declaration's order, purge candidates last)
    and, after ``apply``, their outcomes. ``refused``: the message of a plan refused before any write (a purge over
    ``purge_max``): then nothing is applied and every write is ``not_attempted``."""

    def __init__(self, changes, refused=None):
        self.changes = list(changes)
        self.refused = refused
        for change in self.changes:
            if getattr(change, "fingerprint", None) is None:
                change.fingerprint = point_fingerprint(change.current)  # the point as it was read: the plan's basis

    @classmethod
    def make(cls, normalized, actual_points, login, purge=False, purge_exclude=(), purge_max=None):
        """Plan ``normalized`` (from ``normalize_specs``) against the cabinet's points; makes no request."""
        options = {} if purge_max is None else {"purge_max": purge_max}
        try:
            return cls(plan_points(normalized, actual_points, login, purge=purge, purge_exclude=purge_exclude,
                                   **options))
        except PurgeRefused as exc:
            for change in exc.changes:
                change.outcome = NOT_ATTEMPTED if change.changed else "unchanged"
            return cls(exc.changes, refused=str(exc))

    # -- apply ---------------------------------------------------------------------------------------------

    @property
    def writes(self):
        return [change for change in self.changes if change.changed and change.outcome != NOT_PLANNED]

    def apply(self, client, check_mode=False, concurrency=8):
        """Write (or, in check mode, predict) the planned changes; nothing when the plan was refused."""
        if self.refused is None:
            apply_plan([c for c in self.changes if c.outcome != NOT_PLANNED], client, check_mode=check_mode,
                       concurrency=concurrency)

    def refuse(self, message):
        """Refuse the whole plan before any write (a stale saved plan): every write ends ``not_attempted``."""
        self.refused = message
        for change in self.changes:
            change.outcome = NOT_ATTEMPTED if change.changed else "unchanged"

    def leave_alone(self, change):
        """Take ``change`` out of the writes: a saved plan's apply does not touch what it did not plan."""
        change.outcome = NOT_PLANNED

    # -- the verdict ---------------------------------------------------------------------------------------

    @property
    def changed(self):
        return any(change.changed and change.outcome in (DONE, PREDICTED) for change in self.changes)

    def outcomes(self, outcome):
        return [change for change in self.writes if change.outcome == outcome]

    @property
    def failed(self):
        return bool(self.refused or self.outcomes(FAILED) or self.outcomes(NOT_ATTEMPTED))

    def summary(self):
        return summary_of(self.changes)

    def results(self):
        return [change.result() for change in self.changes]

    def diff_entries(self):
        """``[(label, before, after)]``, one per point with a write: what plugin_utils/_diff.py renders."""
        return [("retail point %s" % (change.name or change.id), change.before(), change.after())
                for change in self.changes if change.changed]

    def warnings(self):
        """The notices of the plan (abolished tax modes, deletes that cost a register...), one line each, and one
        for the points a purge keeps because a register or the tax office holds them."""
        if self.refused is not None:
            return []
        notices = ["retail point %r: %s" % (change.name, notice) for change in self.changes for notice in change.notices]
        held = [change for change in self.changes if change.action == KEEP and set(change.guards) - {GUARD_EXCLUDED}]
        if held:
            more = " and %d more" % (len(held) - _SHOWN) if len(held) > _SHOWN else ""
            notices.append("purge kept %d point(s) that the list does not declare, because a register or the tax "
                           "office holds them: %s%s (results[].reason says which); declare them, or name them in "
                           "purge_exclude" % (len(held), ", ".join(repr(c.name or c.id) for c in held[:_SHOWN]), more))
        not_planned = [change for change in self.changes if change.outcome == NOT_PLANNED]
        if not_planned:
            notices.append("%d point(s) differ from the data but are not in the saved plan (they changed after it was "
                           "made): left as they are, the next plan shows them: %s" % (
                               len(not_planned), ", ".join(repr(c.name or c.id) for c in not_planned[:_SHOWN])))
        return notices

    def message(self):
        """Why the task failed (what failed, what was done, what was not attempted), or None."""
        if self.refused is not None:
            return self.refused
        failed, not_attempted = self.outcomes(FAILED), self.outcomes(NOT_ATTEMPTED)
        parts = []
        if failed:
            parts.append("%d of %d writes failed (%d done, the rest unchanged): %s" % (
                len(failed), len(self.writes), len(self.outcomes(DONE)),
                "; ".join("%s (%s): %s" % (c.name, c.action, c.error) for c in failed)))
        if not_attempted:
            reason = next((c.error for c in not_attempted if c.error), "the run stopped")
            parts.append("%d of %d writes not attempted: %s" % (len(not_attempted), len(self.writes), reason))
        return "; ".join(parts) or None

    def result(self):
        """The task's result (the diff entries are rendered by the plugin, only with --diff)."""
        result = {"changed": self.changed, "summary": self.summary(), "results": self.results()}
        warnings = self.warnings()
        if warnings:
            result["warnings"] = warnings  # shown by Ansible; the drift report reads results[].notices and reason
        if self.failed:
            result.update(failed=True, msg=self.message())
        return result

    # -- plain data ----------------------------------------------------------------------------------------

    def to_dict(self):
        return {"kind": "points", "refused": self.refused, "changes": [change_to_dict(c) for c in self.changes]}

    @classmethod
    def from_dict(cls, data):
        return cls([change_from_dict(entry) for entry in data.get("changes") or []], refused=data.get("refused"))
