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

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import activation_of, index_by_name, points_named

BIND, REBIND, UNBIND = "bind", "rebind", "unbind"


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


def resolve_references(references, points_by_id, points_by_name):
    """Map each user reference (name or id) to ``(reference, point_or_None)``; ambiguity is an error."""
    resolved = []
    for reference in references:
        ref = reference.strip()
        if is_point_id(ref):
            resolved.append((ref, points_by_id.get(ref.lower()) or points_by_id.get(ref)))
            continue
        matches = points_named(ref, points_by_name)  # a name as it is compared everywhere (point_name_key)
        if len(matches) > 1:
            raise ValueError("retail point name %r is ambiguous in the cabinet (ids %s); use the id"
                             % (ref, ", ".join(sorted(p["id"] for p in matches))))
        resolved.append((ref, matches[0] if matches else None))
    return resolved


def index_points(points):
    by_id = dict((point["id"], point) for point in points if isinstance(point, dict) and point.get("id"))
    return by_id, index_by_name(points)


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


def bindings_after(register_bindings, actions):
    """The register's binding names after ``actions`` (for the diff)."""
    names = dict((b.get("retailPointId"), b.get("name")) for b in register_bindings if b.get("retailPointId"))
    for action in actions:
        if action.action == UNBIND:
            names.pop(action.id, None)
        else:
            names[action.id or "(new) " + action.name] = action.name
    return sorted(n for n in names.values() if n)
