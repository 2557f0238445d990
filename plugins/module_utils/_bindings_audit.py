# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Audit register bindings from one list of the cabinet's points. Pure: no request, no SSH.

The cabinet says which register holds an active point (``kkmInfo.serialNumber``), so the bindings of every
register can be read from one list of the account's points instead of one SSH exec per register. Each register
is then planned with the binding planner of ``modulkassa.pos.register`` (``_binding_planner.plan_bindings``),
given the cabinet's view of its bindings instead of its agent's: the same rules, the same actions, and a result
per register in the shape ``register`` returns (``serial``, ``changes``, ``actions``, ``bindings``).

What only the register knows stays out of reach: a binding the register still lists while the cabinet gives the
point to another register, bindings of another account's points, the agent's own health. The SSH audit sees
those.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    UNBIND,
    BindingAction,
    bindings_after,
    holder_of,
    index_points,
    plan_bindings,
    resolve_references,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._health import register_health
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import points_named


class RegisterData(object):
    """One register as the fleet data declares it: its inventory host, serial and point references."""

    def __init__(self, host, serial, references):
        self.host = host
        self.serial = serial
        self.references = references


def reference_problem(references):
    """Why a register's ``modulkassa_register_points`` cannot be planned (the rules of ``register``), or None."""
    if not isinstance(references, list):
        return "modulkassa_register_points must be a list of point names or ids"
    for index, reference in enumerate(references):
        if not isinstance(reference, str) or not reference.strip():
            return "modulkassa_register_points[%d] must name a retail point" % index
    stripped = [reference.strip() for reference in references]
    if len(set(stripped)) != len(stripped):
        return "modulkassa_register_points lists the same point twice"
    return None


def cabinet_bindings(points):
    """``{serial: [{"retailPointId", "name", "since"}]}``: every active point under the register that holds it."""
    held = {}
    for point in points:
        serial = holder_of(point)
        if serial:
            kkm_info = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
            held.setdefault(serial, []).append({"retailPointId": point["id"], "name": point.get("name"),
                                                "since": kkm_info.get("activatedAt")})
    return held


def _names(bindings):
    return sorted(b.get("name") or b.get("retailPointId") for b in bindings)


class CabinetView(object):
    """The cabinet's points, indexed once for every register of the run."""

    def __init__(self, points):
        self.points = [p for p in points if isinstance(p, dict) and p.get("id")]
        self.by_id, self.by_name = index_points(self.points)
        self.held = cabinet_bindings(self.points)

    def health(self, serial, declared=()):
        """``health`` as ``register`` returns it: the points ``serial`` holds and the ``declared`` ones, from this read."""
        points = dict((b["retailPointId"], self.by_id[b["retailPointId"]]) for b in self.held.get(serial, [])
                      if b["retailPointId"] in self.by_id)
        points.update((point["id"], point) for point in declared if point is not None)
        return register_health(serial, list(points.values()))

    def resolve(self, references):
        """``[(reference, point or None)]``; ``ValueError`` for a name two points share (as ``register``)."""
        return resolve_references([r.strip() for r in references], self.by_id, self.by_name)

    def point_ids(self, references):
        """Ids of the cabinet points that ``references`` (names or ids) name; unknown and ambiguous ones are left out."""
        ids = set()
        for reference in references:
            if not isinstance(reference, str) or not reference.strip():
                continue
            ref = reference.strip()
            if is_point_id(ref):
                point = self.by_id.get(ref.lower()) or self.by_id.get(ref)
                if point:
                    ids.add(point["id"])
            else:
                matches = points_named(ref, self.by_name)  # names compare folded, as everywhere
                if len(matches) == 1:
                    ids.add(matches[0]["id"])
        return ids


def action_entries(actions, check_mode):
    """The actions as ``register`` reports them: predicted in check mode; outside it nothing is bound from the
    cabinet (the task refuses before any write), so each is not attempted."""
    return [dict(action.as_dict(), outcome="predicted" if check_mode else "not_attempted") for action in actions]


def audit_register(view, register, exclusive, check_mode):
    """The result of one register, shaped like ``modulkassa.pos.register``'s, planned from the cabinet's view.

    ``check_mode`` decides what a declared point missing from the cabinet is: in check mode one an earlier task of
    the run would create (a binding that would be made, with a warning), otherwise an error.
    """
    entry = {"host": register.host, "serial": register.serial, "declared": True, "changed": False, "warnings": []}
    try:
        resolved = view.resolve(register.references)
    except ValueError as exc:
        entry.update(failed=True, msg="register %s: %s" % (register.serial, exc))
        return entry
    for reference, point in resolved:
        if point is None and not check_mode:
            entry.update(failed=True, msg="register %s: retail point %r does not exist in the cabinet; converge the "
                                          "points first" % (register.serial, reference))
            return entry
        if point is None:
            entry["warnings"].append("retail point %r does not exist in the cabinet; assuming an earlier task of this "
                                     "check run would create it" % reference)
    bindings = view.held.get(register.serial, [])
    actions = plan_bindings(register.serial, bindings, resolved, "bound", exclusive)
    if not bindings and actions:
        entry["warnings"].append(
            "register %s: the cabinet shows no point held by this serial (a register not activated yet, or a mistyped "
            "modulkassa_register_serial): every point declared for it is reported as a binding to make" % register.serial)
    before, after = _names(bindings), bindings_after(bindings, actions)
    entry.update(
        changed=bool(actions),
        changes={"retail_points": {"before": before, "after": after}} if actions else {},
        actions=action_entries(actions, check_mode),
        bindings=bindings,
        health=view.health(register.serial, [point for dummy, point in resolved]),
    )
    return entry


def undeclared_holders(view, declared_serials, managed_ids, claimed_ids, check_mode=True):
    """Registers the data does not declare that hold a managed point no register of the data claims.

    ``managed_ids``: ids of the cabinet points the data declares (``modulkassa_points``); a point it does not
    declare is not managed, and who holds it is not the data's business. ``claimed_ids``: the points some register of
    the data serves (a register host, in this run or not, or a register without SSH): a register host's own entry
    already reports it taken from the undeclared one (a ``rebind``), and the serial of a register without SSH is not
    in the data. Returns one entry per such serial, shaped like a register's: everything it holds goes.
    """
    entries = []
    for serial in sorted(view.held):
        if serial in declared_serials:
            continue
        bindings = [b for b in view.held[serial]
                    if b["retailPointId"] in managed_ids and b["retailPointId"] not in claimed_ids]
        if not bindings:
            continue
        actions = [BindingAction(UNBIND, b["retailPointId"], b.get("name"), serial) for b in sorted(
            bindings, key=lambda b: (b.get("name") or "", b["retailPointId"]))]
        before = _names(bindings)
        entries.append({
            "host": None, "serial": serial, "declared": False, "changed": True, "warnings": [],
            "changes": {"retail_points": {"before": before, "after": []}},
            "actions": action_entries(actions, check_mode),
            "bindings": bindings,
            "health": view.health(serial),
        })
    return entries
