# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn retail point names into ids (docs: point_index.yml, point_ids.yml).

The registers role lists the cabinet once per play, indexes it with ``point_index`` once, and each register host
maps its references with ``point_ids``: modulkassa.pos.register then reads only its own points (one GET per id)
instead of every register listing the whole cabinet.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import looks_like_id
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import canonical_actual


def point_index(points):
    """``{name: id}`` of the points whose name is unique in ``points``; an ambiguous name is left out."""
    if not isinstance(points, (list, tuple)):
        raise AnsibleFilterError("point_index expects a list of retail points (retail_point_info's points), got %s"
                                 % type(points).__name__)
    index, ambiguous = {}, set()
    for point in points:
        if not isinstance(point, dict) or not point.get("id"):
            continue
        name = canonical_actual(point)["name"]
        if name in index:
            ambiguous.add(name)
        index[name] = str(point["id"])
    for name in ambiguous:
        del index[name]  # the register plugin then sees the name, lists the cabinet and names both ids
    return index


def point_ids(references, index):
    """Each reference as an id when ``index`` knows its name; ids and unknown names pass through unchanged."""
    if not isinstance(references, (list, tuple)):
        raise AnsibleFilterError("point_ids expects a list of point names or ids, got %s" % type(references).__name__)
    if not isinstance(index, dict):
        raise AnsibleFilterError("point_ids expects an index from point_index, got %s" % type(index).__name__)
    resolved = []
    for reference in references:
        reference = str(reference).strip()
        resolved.append(reference if looks_like_id(reference) else str(index.get(reference, reference)))
    return resolved


class FilterModule(object):

    def filters(self):
        return {"point_index": point_index, "point_ids": point_ids}
