# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn retail point names into ids (docs: point_index.yml, point_ids.yml, point_id_refs.yml).

The registers role lists the cabinet once per play, indexes it with ``point_index`` once, and each register host
maps its references with ``point_ids``: modulkassa.pos.register then reads only its own points (one GET per id)
instead of every register listing the whole cabinet.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id, point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import PointIndex
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import canonical_actual


def point_index(points):
    """``{name: id}`` of the cabinet's points, by name as the cabinet shows it. A name that several points share,
    also only after folding (``point_name_key``), maps to None: the register plugin then sees the name, lists the
    cabinet and names their ids."""
    if not isinstance(points, (list, tuple)):
        raise AnsibleFilterError("point_index expects a list of retail points (retail_point_info's points), got %s"
                                 % type(points).__name__)
    return dict((canonical_actual(point)["name"], str(point["id"]) if len(same) == 1 else None)
                for same in PointIndex(points).by_name.values() for point in same)


def point_ids(references, index):
    """Each reference as an id when ``index`` knows its name; ids and unknown names pass through unchanged."""
    if not isinstance(references, (list, tuple)):
        raise AnsibleFilterError("point_ids expects a list of point names or ids, got %s" % type(references).__name__)
    if not isinstance(index, dict):
        raise AnsibleFilterError("point_ids expects an index from point_index, got %s" % type(index).__name__)
    folded = None  # built on the first name not spelt as the cabinet spells it
    resolved = []
    for reference in references:
        reference = str(reference).strip()
        if is_point_id(reference):
            resolved.append(reference)
        elif reference in index:
            resolved.append(str(index[reference] or reference))
        else:
            if folded is None:
                # The names whose id is known, looked up as every name is (an ambiguous one maps to None: left out,
                # so the reference passes through and the register plugin refuses it naming the ids).
                folded = PointIndex([{"id": point_id, "name": name} for name, point_id in index.items()
                                     if isinstance(name, str) and point_id])
            point = folded.find_unique(reference)
            resolved.append(str(point["id"]) if point else reference)
    return resolved


def point_id_refs(references):
    """The references that are point ids (``is_point_id``), in the form the cabinet answers them (``point_id_key``);
    names are left out."""
    if not isinstance(references, (list, tuple)):
        raise AnsibleFilterError("point_id_refs expects a list of point names or ids, got %s" % type(references).__name__)
    return [point_id_key(reference) for reference in references if is_point_id(reference)]


class FilterModule(object):

    def filters(self):
        return {"point_index": point_index, "point_ids": point_ids, "point_id_refs": point_id_refs}
