# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.register_info: the register's status from its agent (docs: the module file).

One raw exec of ``<agent> status`` on the host; no module is shipped and the cabinet is not called.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.modulkassa.pos.plugins.plugin_utils._register_agent import AgentError, agent_status, resolve_agent_path


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True  # read-only: the same in check mode
    _supports_async = False

    argument_spec = {"agent_path": {"type": "str"}}

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=self.argument_spec)
        agent_path = resolve_agent_path(self, args["agent_path"], task_vars)
        try:
            status = agent_status(self, agent_path)
        except AgentError as exc:
            result.update(failed=True, msg=str(exc), agent_error=exc.code)
            return result
        register = {
            "serial": status["serial"],
            "model": status.get("model"),
            "app_version": status.get("appVersion"),
            "synced": status.get("synced"),
            "bindings": [{"retail_point_id": b.get("retailPointId"), "name": b.get("name"), "since": b.get("since")}
                         for b in status["bindings"]],
        }
        result.update(changed=False, register=register, ansible_facts={"modulkassa_register": register})
        return result
