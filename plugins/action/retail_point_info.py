# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.retail_point_info: read-only listing (docs: the module file)."""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id, point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    PointInputError,
    activation_of,
    canonical_actual,
    public_point,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase


class ActionModule(CabinetActionBase):

    argument_spec = with_cabinet_options({
        "id": {"type": "str"},
        "name": {"type": "str"},
        "inn": {"type": "str"},
        "active": {"type": "bool"},
    })

    def prepare(self, args, task_vars):
        if args["id"] is not None and not is_point_id(args["id"]):
            raise PointInputError("id", "must be a UUID (8-4-4-4-12 hexadecimal digits), as the cabinet's ids are")
        return None

    def _matches(self, point, args):
        canonical = canonical_actual(point)
        if args["name"] is not None and canonical["name"] != args["name"].strip():
            return False
        if args["inn"] is not None and canonical["inn"] != args["inn"].strip():
            return False
        if args["active"] is not None and activation_of(point)["active"] != args["active"]:
            return False
        return True

    def execute(self, args, prepared, client, task_vars):
        if args["id"]:
            try:
                candidates = [client.get_point(point_id_key(args["id"]))]
            except CabinetNotFound:
                candidates = []
        else:
            candidates = client.list_points()
        points = [public_point(p) for p in candidates if isinstance(p, dict) and self._matches(p, args)]
        return {"changed": False, "points": points}
