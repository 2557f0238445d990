# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.retail_point: one point (docs: the module file).

``present``/``absent`` are the one-element case of the planner that ``retail_points`` uses, so both agree field
by field. ``active`` adds the cabinet's "Активировать" step: a live code is pending until a register redeems it.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import (
    issue_code,
    record_code,
    sealed_code_of,
    unwritable_reason,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import point_attributes, with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError, activation_of, public_point
from ansible_collections.modulkassa.pos.plugins.module_utils._point_plan import PointPlan
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError, normalize_specs
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import object_diff
from ansible_collections.modulkassa.pos.plugins.module_utils._polling import poll

POINT_OPTIONS = ("name", "id") + tuple(point_attributes())


def _argument_spec():
    spec = point_attributes()
    spec.update(
        name={"type": "str"},
        id={"type": "str"},
        state={"type": "str", "default": "present", "choices": ["present", "active", "absent"]},
        code_file={"type": "path"},
        reissue_code={"type": "bool", "default": False},
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "float", "default": 300.0},
    )
    return with_cabinet_options(spec)


class ActionModule(CabinetActionBase):

    argument_spec = _argument_spec()
    validation_rules = {"required_one_of": [["name", "id"]]}

    def prepare(self, args, task_vars):
        if args["state"] != "active":
            for option in ("code_file", "wait"):
                if args[option]:
                    raise PointInputError(option, "only applies with state=active")
        if args["wait_timeout"] <= 0:
            raise PointInputError("wait_timeout", "must be positive")
        if args["code_file"]:
            # Checked before any request: a code issued in the cabinet but not written down would be lost.
            problem = unwritable_reason(args["code_file"])
            if problem:
                raise PointInputError("code_file", problem)
        spec = dict((key, args[key]) for key in POINT_OPTIONS)
        spec["state"] = "absent" if args["state"] == "absent" else "present"
        return normalize_specs([spec], "")

    def _current_points(self, client, point_id):
        if not point_id:
            return client.list_points()  # one request, then matched by name like retail_points does
        try:
            return [client.get_point(point_id)]
        except CabinetNotFound:
            return []

    def execute(self, args, prepared, client, task_vars):
        declared = prepared[0]
        plan = PointPlan.make(prepared, self._current_points(client, declared.id), args["cabinet_login"])
        plan.apply(client, check_mode=self.check_mode)
        change = plan.changes[0]
        if change.outcome == "failed":
            return {"failed": True, "changed": False, "action": change.action, "id": change.id,
                    "msg": "%s of retail point %r failed: %s" % (change.action, change.name, change.error)}
        before, after = change.before(), change.after()
        point = change.point
        code_issued, sealed_copy = False, None
        if args["state"] == "active":
            before["activation"] = self._activation_state(change.current)
            point, code_issued, sealed_copy = self._ensure_activation_pending(client, args, change, point)
            after["activation"] = "active" if activation_of(point)["active"] else "pending"
        changes = change.changes()
        if before.get("activation") != after.get("activation"):
            changes["activation"] = {"before": before["activation"], "after": after["activation"]}
        if sealed_copy:
            # The pending code was replaced because code_file had no copy of it: say so (never the code itself).
            changes["sealed_code"] = {"before": sealed_copy, "after": "sealed"}
        result = {
            "changed": change.changed or code_issued,
            "action": change.action,
            "name": change.name,
            "id": change.id,
            "changed_fields": list(change.fields),
            "changes": changes,
            "code_issued": code_issued,
            "point": public_point(point) if point else None,
            "diff": object_diff("retail point %s" % (change.name or change.id), before, after),
        }
        if change.notices:
            result["notices"] = list(change.notices)
            result["warnings"] = ["retail point %r: %s" % (change.name, notice) for notice in change.notices]
        if args["state"] == "active" and args["wait"] and not self.check_mode and not activation_of(point)["active"]:
            point = self._wait_for_activation(client, change, args["wait_timeout"], task_vars)
            result["point"] = public_point(point)
        return result

    @staticmethod
    def _activation_state(point):
        if point is None:
            return "absent"
        activation = activation_of(point)
        return "active" if activation["active"] else ("pending" if activation["code_pending"] else "inactive")

    def _ensure_activation_pending(self, client, args, change, point):
        """A live code exists for an inactive point (the cabinet's "Активировать").

        Returns ``(point, issued, sealed_copy)``; ``sealed_copy`` is None, or why the pending code was replaced:
        ``missing`` (code_file has no entry for this point, or no file at all) or ``stale`` (it holds another code).
        A pending code is kept only where staff can still find it: with ``code_file``, only when the file holds
        exactly that code for this point. A file that died with an execution environment, or was deleted, took the
        only copy the collection made; a copy that may have left with it is retired by a fresh code, written again.
        """
        if activation_of(point)["active"]:
            return point, False, None
        current_code = point.get("posLinkToken")
        if current_code:
            client.add_secret(current_code)
        sealed_copy = None
        if current_code and not args["reissue_code"]:
            if not args["code_file"]:
                return point, False, None
            sealed = sealed_code_of(args["code_file"], change.name, change.id)
            if sealed == current_code:
                return point, False, None
            sealed_copy = "missing" if sealed is None else "stale"
        if self.check_mode:
            return point, True, sealed_copy
        code, point = issue_code(client, change.id)
        if args["code_file"]:
            record_code(args["code_file"], change.name, change.id, code)
        return point, True, sealed_copy

    def _wait_for_activation(self, client, change, timeout, task_vars):
        def describe(elapsed):
            return "retail_point: waiting for a register to redeem the activation code of %r (%.0f s of %g s)" % (
                change.name, elapsed, timeout)

        with self.progress(client, task_vars, describe):
            point, activated = poll(lambda: client.get_point(change.id), lambda p: activation_of(p)["active"], timeout,
                                    check=lambda: self.controller.check("waiting for retail point %r" % change.name))
        if not activated:
            raise PlanError("retail point %r was not activated within %.0f s; its code is still pending (see code_file "
                            "or the cabinet)" % (change.name, timeout))
        return point
