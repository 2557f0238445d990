# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decide which retail points a register must bind or release. Pure: no request, no SSH.

Inputs are the register's serial and bindings (from its agent's ``status``) and the cabinet's view of the
declared points. The cabinet is the truth for "who holds point P" (``kkmInfo.serialNumber`` of an active
point); the register's own list is what ``exclusive`` and ``unbound`` act on.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._fingerprint import register_fingerprint
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import AmbiguousName, PointIndex
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import activation_of
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError

BIND, REBIND, UNBIND = "bind", "rebind", "unbind"


def serial_mismatch(declared, reported):
    """Why a register must not be touched: the inventory declares one serial (``modulkassa_register_serial``), the
    agent on the host reports another, so the host's address reaches another register than the data means (binding
    it would give that register the points). None when nothing is declared or both agree."""
    declared = str(declared).strip() if declared not in (None, "") else None
    if declared is None or declared == str(reported or "").strip():
        return None
    return ("the register on this host reports serial %r, but modulkassa_register_serial declares %r: the host's "
            "address reaches another register than the data means (check ansible_host); nothing was changed"
            % (reported, declared))


class BindingAction(object):
    def __init__(self, action, point_id, name, previous_register=None, point=None):
        self.action = action
        self.id = point_id
        self.name = name
        self.previous_register = previous_register
        self.point = point  # the cabinet's object (None: the point does not exist yet, check mode only)

    def as_dict(self):
        return {"action": self.action, "id": self.id, "retail_point": self.name, "previous_register": self.previous_register}


def holder_of(point):
    """Serial of the register the cabinet says holds the point, or None."""
    activation = activation_of(point)
    return activation["register_serial"] if activation["active"] else None


def read_declared_points(client, references, state, check_mode):
    """The register's declared points as the cabinet has them: ``({id: point read}, [(reference, point or None)],
    warnings)``. By id, one GET each; if any reference is a name, one list. A name two points share, or (outside
    check mode) a point to bind that does not exist, is a ``PlanError``; in check mode the latter is a warning."""
    if references and all(is_point_id(ref) for ref in references):
        points = []
        for ref in references:
            try:
                points.append(client.get_point(ref))
            except CabinetNotFound:
                pass
    else:
        points = client.list_points() if references else []
    try:
        index = PointIndex(points)
        resolved = resolve_references(references, index)
    except AmbiguousName as exc:
        raise PlanError(str(exc))
    warnings = []
    for reference, point in resolved:
        if point is None and state == "bound" and not check_mode:
            raise PlanError("retail point %r does not exist in the cabinet; converge the points first" % reference)
        if point is None and state == "bound":
            warnings.append("retail point %r does not exist in the cabinet; assuming an earlier task of this "
                            "check run would create it" % reference)
    return dict((p["id"], p) for p in index.points), resolved, warnings  # unbound: absent is bound nowhere


def resolve_references(references, index):
    """Map each user reference (name or id) to ``(reference, point_or_None)`` through ``index`` (a ``PointIndex``);
    an ambiguous name raises ``AmbiguousName`` (a ValueError)."""
    return [(reference.strip(), index.find(reference)) for reference in references]


def plan_bindings(serial, register_bindings, resolved, state, exclusive):
    """Returns the list of ``BindingAction`` that converge the register; empty means nothing to do.

    ``register_bindings``: ``[{"retailPointId", "name"}]`` from the agent. ``resolved``: ``[(reference, point)]``.
    """
    actions = []
    declared_ids = set()
    bound_here = dict((b.get("retailPointId"), b.get("name")) for b in register_bindings if b.get("retailPointId"))
    for reference, point in resolved:
        if point is None:
            # Only reachable in check mode: the point would be created by an earlier task of this run.
            if state == "bound":
                actions.append(BindingAction(BIND, None, reference))
            continue
        declared_ids.add(point["id"])
        holder = holder_of(point)
        name = point.get("name") or reference
        if state == "bound":
            if holder != serial:
                actions.append(BindingAction(REBIND if holder else BIND, point["id"], name, holder, point))
        elif holder == serial or point["id"] in bound_here:
            actions.append(BindingAction(UNBIND, point["id"], name, serial, point))
    if exclusive and state == "bound":
        for point_id, name in sorted(bound_here.items()):
            if point_id not in declared_ids:
                actions.append(BindingAction(UNBIND, point_id, name, serial))
    return actions


def points_of_register(serial, points, resolved):
    """The cabinet points a register declares or holds (``resolved``: its references), for its health."""
    declared = set(point["id"] for dummy, point in resolved if point is not None)
    return [point for point in points if point["id"] in declared or holder_of(point) == serial]


def bindings_after(register_bindings, actions):
    """The register's binding names after ``actions`` (for the diff)."""
    names = dict((b.get("retailPointId"), b.get("name")) for b in register_bindings if b.get("retailPointId"))
    for action in actions:
        if action.action == UNBIND:
            names.pop(action.id, None)
        else:
            names[action.id or "(new) " + action.name] = action.name
    return sorted(n for n in names.values() if n)


# What became of each planned action (``actions[].outcome``).
DONE = "done"
FAILED = "failed"
NOT_ATTEMPTED = "not_attempted"
PREDICTED = "predicted"
# An action the re-plan of a saved plan found that the saved plan does not hold: left alone (docs/gitops.md).
NOT_PLANNED = "not_planned"


def binding_names(bindings):
    """The sorted names (ids where a name is missing) of an agent's bindings: what ``changes`` and the diff show."""
    return sorted(b.get("name") or b.get("retailPointId") for b in bindings if b.get("name") or b.get("retailPointId"))


def _plain_bindings(bindings):
    """A copy of the agent's bindings (``retailPointId``, ``name``, ``since``: nothing secret in them)."""
    return [dict(b) for b in bindings or () if isinstance(b, dict)]


class BindingStep(object):
    """One planned action and what became of it: done, failed, predicted, or not attempted (the run stopped)."""

    def __init__(self, action, outcome=NOT_ATTEMPTED, error=None):
        self.action = action
        self.outcome = outcome
        self.error = error
        self.answer = None  # the agent's answer (its new status) when it gave one; not part of the plan's data

    def as_dict(self):
        entry = self.action.as_dict()
        entry["outcome"] = self.outcome
        if self.error:
            entry["error"] = self.error
        return entry


class BindingPlan(object):
    """The plan of one register: its serial, its bindings before (its agent's word), the actions, and, after the
    apply, their outcomes, the bindings after and why it stopped. Plain data (``to_dict``/``from_dict``); the
    cabinet's point objects behind the actions are not kept (they hold the activation code)."""

    def __init__(self, serial, bindings_before, steps, declared_holders=None, warnings=None):
        self.serial = serial
        self.bindings_before = _plain_bindings(bindings_before)
        self.steps = list(steps)
        self.declared_holders = dict(declared_holders or {})  # {point id: serial} of the held declared points
        self.warnings = list(warnings or [])
        self.bindings_after = None  # the agent's bindings after the apply (None: not known, or check mode)
        self.failure = None  # {"message", "kind": failed|made|unreachable, "agent_error", "exception"}
        self.current = 0  # the index of the step being applied (progress lines)

    @classmethod
    def make(cls, serial, status_bindings, resolved, state, exclusive, check_mode=False, warnings=None):
        actions = plan_bindings(serial, status_bindings, resolved, state, exclusive)
        holders = dict((point["id"], holder_of(point)) for dummy, point in resolved if point is not None and holder_of(point))
        outcome = PREDICTED if check_mode else NOT_ATTEMPTED
        return cls(serial, status_bindings, [BindingStep(action, outcome) for action in actions], holders, warnings)

    def fingerprint(self):
        """Of the register as the plan read it (_fingerprint.py): its agent's bindings, who holds its points."""
        return register_fingerprint(self.serial, self.bindings_before, self.declared_holders)

    @property
    def actions(self):
        return [step.action for step in self.steps]

    @property
    def planned(self):
        """The steps the apply performs (a saved plan's apply leaves out those it did not plan)."""
        return [step for step in self.steps if step.outcome != NOT_PLANNED]

    # -- the verdict ---------------------------------------------------------------------------------------

    @property
    def changed(self):
        return any(step.outcome in (DONE, PREDICTED) for step in self.steps)

    def before_names(self):
        return binding_names(self.bindings_before)

    @property
    def attempted(self):
        """Whether the apply has acted (a step done or failed, or a stop): until then the plan shows its prediction."""
        return self.failure is not None or any(step.outcome in (DONE, FAILED) for step in self.steps)

    def after_names(self):
        """The register's bindings after: its agent's word when known, else what it held changed by what was done
        (or, before or without the apply, by what is planned)."""
        if self.bindings_after is not None:
            return binding_names(self.bindings_after)
        if self.attempted:
            return bindings_after(self.bindings_before, [s.action for s in self.steps if s.outcome == DONE])
        return bindings_after(self.bindings_before, [s.action for s in self.planned])

    @property
    def bindings(self):
        """The register's bindings as its agent listed them: after the apply when known, before it otherwise
        (None: the apply acted and the register could not be asked again)."""
        if self.bindings_after is not None:
            return self.bindings_after
        return None if self.attempted else self.bindings_before

    def changes(self):
        """The diff's structured twin, present without --diff too (the drift report reads it). With actions it is
        present even when nothing changed in the end (a failed bind): it shows the real state after."""
        if not self.steps:
            return {}
        return {"retail_points": {"before": self.before_names(), "after": self.after_names()}}

    def diff_entry(self):
        """``(label, before, after)`` for plugin_utils/_diff.py."""
        return ("register %s" % self.serial, {"retail_points": self.before_names()},
                {"retail_points": self.after_names()})

    def message(self):
        return self.failure["message"] if self.failure else None

    def result(self):
        result = {"changed": self.changed, "serial": self.serial, "warnings": list(self.warnings),
                  "actions": [step.as_dict() for step in self.steps], "changes": self.changes()}
        if self.bindings is not None:
            result["bindings"] = self.bindings
        if self.failure:
            result["msg"] = self.failure["message"]
            if self.failure.get("agent_error"):
                result["agent_error"] = self.failure["agent_error"]
            if self.failure["kind"] == "unreachable":
                result["unreachable"] = True  # as Ansible reports a lost connection, with what was done on top
            else:
                result["failed"] = True
                if self.failure.get("exception"):
                    result["exception"] = self.failure["exception"]
        return result

    # -- plain data ----------------------------------------------------------------------------------------

    def to_dict(self):
        return {
            "kind": "register", "serial": self.serial, "bindings_before": self.bindings_before,
            "declared_holders": self.declared_holders, "warnings": self.warnings,
            "steps": [step.as_dict() for step in self.steps],
            "bindings_after": _plain_bindings(self.bindings_after) if self.bindings_after is not None else None,
            "failure": self.failure,
        }

    @classmethod
    def from_dict(cls, data):
        steps = [BindingStep(BindingAction(entry["action"], entry.get("id"), entry.get("retail_point"),
                                           entry.get("previous_register")), entry.get("outcome", NOT_ATTEMPTED),
                             entry.get("error")) for entry in data.get("steps") or []]
        plan = cls(data["serial"], data.get("bindings_before") or [], steps, data.get("declared_holders"),
                   data.get("warnings"))
        plan.bindings_after = data.get("bindings_after")
        plan.failure = data.get("failure")
        return plan
