# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.retail_points: the whole desired set in one call (docs: the module file)."""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import point_attributes, with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (
    apply_plan,
    normalize_specs,
    plan_points,
    summary_of,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import points_diff


def _point_suboptions():
    options = point_attributes()
    options.update(
        name={"type": "str"},
        id={"type": "str"},
        state={"type": "str", "default": "present", "choices": ["present", "absent"]},
    )
    return options


class ActionModule(CabinetActionBase):

    argument_spec = with_cabinet_options({
        "points": {"type": "list", "elements": "dict", "required": True, "options": _point_suboptions(),
                   "required_one_of": [["name", "id"]]},
        "purge": {"type": "bool", "default": False},
        "concurrency": {"type": "int", "default": 8},
    })

    def prepare(self, args, task_vars):
        if not 1 <= args["concurrency"] <= 64:
            raise PointInputError("concurrency", "must be between 1 and 64")
        return normalize_specs(args["points"], "points")

    def execute(self, args, prepared, client, task_vars):
        changes = plan_points(prepared, client.list_points(), args["cabinet_login"], purge=args["purge"])
        failed = apply_plan(changes, client, check_mode=self.check_mode, concurrency=args["concurrency"])
        result = {
            "changed": any(c.changed and c.outcome in ("done", "predicted") for c in changes),
            "summary": summary_of(changes),
            "results": [c.result() for c in changes],
        }
        if self.diff_mode:
            # Rendering a YAML diff per changed point costs about 1 ms each: only when --diff asks for it.
            result["diff"] = points_diff(changes)
        if failed:
            done = sum(1 for c in changes if c.outcome == "done")
            result["failed"] = True
            result["msg"] = "%d of %d writes failed (%d done, the rest unchanged): %s" % (
                len(failed), sum(1 for c in changes if c.changed), done,
                "; ".join("%s (%s): %s" % (c.name, c.action, c.error) for c in failed))
        return result
