# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one index of the cabinet's points by id and by name, and the one rule for an ambiguous name.

Every place that turns a reference (a point name or id, as the data, a register or a filter writes it) into a
cabinet point uses ``PointIndex``: the point planner, the binding planner, the bindings audit, the point filters,
the export and the inventory plugin. A name designates the points whose name is the same after folding
(``point_name_key``: letter case, compatibility forms, whitespace); ids compare in lower case, as the cabinet stores
them. A name that several points share, spelt alike or only after folding, designates none of them: the caller
fails naming their ids (decision D6), so nothing is ever written to a guessed point.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id, point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import canonical_actual, point_name_key


class AmbiguousName(ValueError):
    """A name that several cabinet points have (``points``): the message names their ids and the way out."""

    def __init__(self, name, points):
        self.name = name
        self.points = points
        spellings = set(canonical_actual(point)["name"] for point in points)
        super(AmbiguousName, self).__init__(
            "retail point name %r is ambiguous in the cabinet: ids %s (%s); identify it by id" % (
                name, ", ".join(sorted(str(point["id"]) for point in points)),
                "names are compared ignoring letter case and spaces" if len(spellings) > 1 else "the same name"))


def reference_key(reference):
    """What a reference is compared by: ``("id", lower-case id)`` or ``("name", point_name_key)``."""
    reference = str(reference).strip()
    return ("id", point_id_key(reference)) if is_point_id(reference) else ("name", point_name_key(reference))


class PointIndex(object):
    """The cabinet's points (those with an id) by lower-case id and by folded name, built once per read."""

    def __init__(self, points):
        self.points = [point for point in points or () if isinstance(point, dict) and point.get("id")]
        self.by_id = {}
        self.by_name = {}
        for point in self.points:
            self.by_id[point_id_key(str(point["id"]))] = point
            self.by_name.setdefault(point_name_key(canonical_actual(point)["name"]), []).append(point)

    def get(self, point_id):
        """The point with this id (any letter case), or None."""
        return self.by_id.get(point_id_key(str(point_id))) if point_id is not None else None

    def named(self, name):
        """Every point ``name`` designates: one, none, or several (ambiguous)."""
        return list(self.by_name.get(point_name_key(name), [])) if name is not None else []

    def find_named(self, name):
        """The one point ``name`` designates, or None; ``AmbiguousName`` when several do."""
        matches = self.named(name)
        if len(matches) > 1:
            raise AmbiguousName(name, matches)
        return matches[0] if matches else None

    def find(self, reference):
        """The point a reference (an id or a name) designates, or None; ``AmbiguousName`` for a shared name."""
        reference = str(reference).strip()
        if is_point_id(reference):
            return self.get(reference)
        return self.find_named(reference)

    def find_unique(self, reference):
        """As ``find``, but an ambiguous name designates nothing (None) instead of raising: for lookups that only
        report (an audit's set of managed points, a filter that leaves the name to the plugin to refuse)."""
        try:
            return self.find(reference)
        except AmbiguousName:
            return None

    def shared_names(self):
        """The cabinet names (as the cabinet spells them) that designate several points: a name alone cannot
        identify those points."""
        return frozenset(canonical_actual(point)["name"] for same in self.by_name.values() if len(same) > 1
                         for point in same)
