# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.fleet_validate: check the fleet data in the inventory (docs: the module file).

It reads the inventory the way the playbooks will: the controller's variables from the task's own vars, each
register host's through ``hostvars``. It never opens a cabinet client and takes no credentials, so a pull
request can be checked by anyone, anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import DataTooLarge, SizeBudget
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import REGISTER_VARIABLES
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_inventory import TooLarge, Unrenderable, validate_inventory
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import format_path
from ansible_collections.modulkassa.pos.plugins.module_utils._saved_plan import (
    SavedPlanError,
    check_basis,
    check_desired_digest,
    desired_digest,
    load_saved_plan,
)

# The failure message lists this many problems; the ``errors`` result has all of them.
SHOWN_IN_MESSAGE = 20


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True  # read-only: runs the same in check mode
    _supports_async = False

    argument_spec = {
        "registers_group": {"type": "str", "default": "registers"},
        "saved_plan": {"type": "path"},
    }

    def _render(self, templar, parts, value):
        # The size first, on the value as loaded (YAML aliases are shared references there): templating copies
        # every node, so an alias bomb would be expanded by the templar itself (minutes, gigabytes).
        try:
            self._budget.spend(format_path(parts), value)
        except DataTooLarge as exc:
            return TooLarge(exc.rule)
        try:
            return templar.template(value)
        except AnsibleError as exc:
            # Undefined variables and template errors are the user's data problems: report them with the path.
            return Unrenderable(str(exc).splitlines()[0])

    def _controller_variables(self, task_vars):
        return dict((name, self._render(self._templar, (name,), task_vars[name]))
                    for name in task_vars if isinstance(name, str) and name.startswith("modulkassa_"))

    def _host_variables(self, hostvars, host, controller_raw, only=None):
        """The host's ``modulkassa_*`` variables, except those it shares with the controller (group_vars/all).

        Untemplated values are compared first: templating the chain's whole point list once per register would
        cost minutes on a big inventory, and a shared value is validated once, on the controller."""
        raw = hostvars.raw_get(host)
        if not isinstance(raw, Mapping):
            return {}
        templar = None
        found = {}
        for name in raw:
            if not isinstance(name, str) or not name.startswith("modulkassa_") or (only is not None and name not in only):
                continue
            if name in controller_raw and (raw[name] is controller_raw[name] or raw[name] == controller_raw[name]):
                continue
            templar = templar or self._templar.copy_with_new_env(available_variables=raw)
            found[name] = self._render(templar, ("hosts", host, name), raw[name])
        return found

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # nothing runs on a managed host
        try:
            dummy, args = self.validate_argument_spec(argument_spec=self.argument_spec)
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=str(exc))
            return result

        task_vars = task_vars or {}
        groups = task_vars.get("groups") or {}
        hostvars = task_vars.get("hostvars") or {}
        register_hosts = list(groups.get(args["registers_group"]) or [])
        register_set = set(register_hosts)

        self._budget = SizeBudget()  # for all the variables this run templates (docs/fleet.md "Size limit")
        controller = self._controller_variables(task_vars)
        registers = dict((host, self._host_variables(hostvars, host, task_vars)) for host in register_hosts)
        others = {}
        for host in groups.get("all") or []:
            if host not in register_set:
                found = self._host_variables(hostvars, host, task_vars, only=REGISTER_VARIABLES)
                if found:
                    others[host] = found

        errors, summary = validate_inventory(controller, registers, others)
        result.update(changed=False, summary=summary, errors=[error.as_dict() for error in errors])
        if not errors:
            # What a saved plan was made from (docs/gitops.md "Saved plans"): an apply of it refuses other data.
            result["desired_digest"] = desired_digest(controller, registers)
            if args["saved_plan"]:
                try:
                    saved = load_saved_plan(args["saved_plan"])
                    check_basis(saved)
                    check_desired_digest(saved, result["desired_digest"])
                except SavedPlanError as exc:
                    result.update(failed=True, msg=str(exc))
                    return result
        if errors:
            shown = "; ".join(str(error) for error in errors[:SHOWN_IN_MESSAGE])
            more = " (and %d more: see errors)" % (len(errors) - SHOWN_IN_MESSAGE) if len(errors) > SHOWN_IN_MESSAGE else ""
            result.update(failed=True, msg="The fleet data has %d problem%s; nothing was sent to the cabinet. %s%s" % (
                len(errors), "" if len(errors) == 1 else "s", shown, more))
        else:
            result["msg"] = "The fleet data is valid: %d retail points, %d registers, %d registers without SSH, %d bindings" % (
                summary["points"], summary["registers"], summary["manual_registers"], summary["bindings"])
        return result
