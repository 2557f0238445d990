# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.register: bind the task's host (a register) to its retail points.

Flow, as ansible-core's copy/template split it: read the register's status with one exec, decide on the
controller against the cabinet, and only then act: issue a fresh code in the cabinet, hand it to the agent
on stdin, confirm in the cabinet. The cabinet is called from the controller only.
"""

from __future__ import annotations

from ansible.errors import AnsibleConnectionFailure

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_apply import AgentError, BindingApply
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    BindingPlan, points_of_register, read_declared_points, serial_mismatch)
from ansible_collections.modulkassa.pos.plugins.module_utils._health import register_health
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._saved_plan import (
    guard_register, load_saved_plan, plan_header, register_entry, register_refusal)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import object_diff
from ansible_collections.modulkassa.pos.plugins.plugin_utils._register_agent import RegisterAgent, resolve_agent_path, task_or_host_value


class ActionModule(CabinetActionBase):

    _requires_connection = True  # unlike the cabinet-only plugins, this one runs the agent on the host

    argument_spec = with_cabinet_options({
        "retail_points": {"type": "list", "elements": "str", "default": []},
        "state": {"type": "str", "default": "bound", "choices": ["bound", "unbound"]},
        "exclusive": {"type": "bool", "default": False},
        "agent_path": {"type": "str"},
        "serial": {"type": "str"},
        "wait_timeout": {"type": "float", "default": 60.0},
        "saved_plan": {"type": "path"},
        "record_plan": {"type": "bool", "default": False},
    })

    def prepare(self, args, task_vars):
        references = [ref.strip() for ref in args["retail_points"]]
        for index, ref in enumerate(references):
            if not ref:
                raise PointInputError("retail_points[%d]" % index, "must not be empty")
        if len(set(references)) != len(references):
            raise PointInputError("retail_points", "lists the same point twice")
        if not references and not args["exclusive"]:
            raise PointInputError("retail_points", "is required unless exclusive=true (release every point)")
        if args["wait_timeout"] <= 0:
            raise PointInputError("wait_timeout", "must be positive")
        return {"references": references, "agent_path": resolve_agent_path(self, args["agent_path"], task_vars),
                "serial": task_or_host_value(self, args["serial"], task_vars, "modulkassa_register_serial"),
                "saved": load_saved_plan(args["saved_plan"]) if args["saved_plan"] else None}

    def execute(self, args, prepared, client, task_vars):
        agent = RegisterAgent(self, prepared["agent_path"])
        try:
            status = agent.status()
        except AgentError as exc:
            return {"failed": True, "msg": str(exc), "agent_error": exc.code}
        mismatch = serial_mismatch(prepared["serial"], status["serial"])  # before any read of the cabinet or write
        if mismatch:
            return {"failed": True, "msg": mismatch, "serial": status["serial"]}
        seen, resolved, warnings = read_declared_points(client, prepared["references"], args["state"], self.check_mode)
        plan = BindingPlan.make(status["serial"], status["bindings"], resolved, args["state"], args["exclusive"],
                                check_mode=self.check_mode, warnings=warnings)
        moved = guard_register(prepared["saved"], plan, args["cabinet_login"]) if prepared["saved"] else None
        if moved:
            return register_refusal(plan.serial, moved)
        if plan.planned and not self.check_mode:
            self._apply(plan, client, agent, args["wait_timeout"], task_vars, seen)
        result = plan.result()
        result["diff"] = object_diff(*plan.diff_entry())
        # Health comes from this task's reads (and the cabinet's answers while binding): no request of its own.
        result["health"] = register_health(plan.serial, points_of_register(plan.serial, seen.values(), resolved))
        if args["record_plan"]:  # for modulkassa-plan's saved plan and applied record: no secret
            result["plan"] = dict(plan_header(args["cabinet_login"]), register=register_entry(plan))
        return result

    def _apply(self, plan, client, agent, wait_timeout, task_vars, seen):
        def describe(elapsed):
            step = plan.planned[plan.current]
            return "register %s: %s of retail point %r (action %d of %d, %.0f s)" % (
                plan.serial, step.action.action, step.action.name, plan.current + 1, len(plan.planned), elapsed)

        with self.progress(client, task_vars, describe):
            BindingApply(plan, client, agent, self.controller, wait_timeout, connection_errors=(AnsibleConnectionFailure,),
                         points_seen=seen).run()
