# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.bindings_audit: audit every register's bindings from one list of the cabinet.

Runs once for the play (BYPASS_HOST_LOOP, like add_host), on the controller, with no connection: it reads the
fleet data of the play's registers from ``hostvars``, lists the cabinet once and plans each register with the
binding planner of ``register`` (docs: the module file).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleError

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._bindings_audit import (
    CabinetView,
    RegisterData,
    audit_register,
    reference_problem,
    undeclared_holders,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    MANUAL_REGISTERS_VAR,
    POINTS_VAR,
    REGISTER_POINTS_VAR,
    REGISTER_SERIAL_VAR,
    REGISTERS_VIA_CHOICES,
    REGISTERS_VIA_VAR,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import plain
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import object_diff

DEFAULT_VIA = REGISTERS_VIA_CHOICES[0]  # ssh
REGISTER_VARS = (REGISTER_POINTS_VAR, REGISTER_SERIAL_VAR, REGISTERS_VIA_VAR)
SHOWN_IN_MESSAGE = 10
NEEDS_SSH = ("binding needs SSH: from the cabinet alone the collection only audits (modulkassa_registers_via: cabinet). "
             "Run the audit in check mode, or set modulkassa_registers_via to ssh for these registers to bind them")


_TEMPLATE_MARKERS = ("{{", "{%", "{#")


def _may_be_template(value):
    """Whether ``value`` holds a string with a Jinja marker (only those can template to something else)."""
    if isinstance(value, str):
        return any(marker in value for marker in _TEMPLATE_MARKERS)
    if isinstance(value, Mapping):
        return any(_may_be_template(key) or _may_be_template(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_may_be_template(item) for item in value)
    return False


def _some(names, shown=5):
    return ", ".join(repr(name) for name in names[:shown]) + (", ..." if len(names) > shown else "")


class _Unrenderable(object):
    def __init__(self, message):
        self.message = message


class ActionModule(CabinetActionBase):

    # One run for the whole play, whatever the task says: the fleet's verdict comes from one read of the cabinet,
    # and a run per register would read it once per register.
    BYPASS_HOST_LOOP = True

    argument_spec = with_cabinet_options({
        "registers_group": {"type": "str", "default": "registers"},
        "exclusive": {"type": "bool", "default": True},
    })

    # -- the fleet data ----------------------------------------------------------------------------------

    def _variables(self, hostvars, host):
        """The host's register variables, templated (a failing template is kept as ``_Unrenderable``)."""
        raw = hostvars.raw_get(host)
        if not isinstance(raw, Mapping):
            return {}
        found, templar = {}, None
        for name in REGISTER_VARS:
            if name not in raw:
                continue
            if not _may_be_template(raw[name]):
                found[name] = plain(raw[name])  # plain data: templating it would give it back, at a cost per host
                continue
            templar = templar or self._templar.copy_with_new_env(available_variables=raw)
            try:
                found[name] = plain(templar.template(raw[name]))
            except AnsibleError as exc:
                found[name] = _Unrenderable(str(exc).splitlines()[0])
        return found

    def _controller_variable(self, task_vars, name):
        """A fleet variable of group_vars/all (the play's first host sees it), templated; None when unusable."""
        value = task_vars.get(name)
        try:
            return plain(self._templar.template(value) if _may_be_template(value) else value)
        except AnsibleError:
            return None  # fleet_validate names the template error; the audit only loses the undeclared check

    @staticmethod
    def _problem(variables):
        """Why this cabinet-audited register cannot be audited, or None (fleet_validate reports the same earlier)."""
        for name, value in variables.items():
            if isinstance(value, _Unrenderable):
                return "%s cannot be evaluated: %s" % (name, value.message)
        serial = variables.get(REGISTER_SERIAL_VAR)
        if not isinstance(serial, str) or not serial.strip():
            return ("%s is not set: the cabinet names the register holding a point only by its serial"
                    % REGISTER_SERIAL_VAR if serial is None else "%s must be a string" % REGISTER_SERIAL_VAR)
        if REGISTER_POINTS_VAR not in variables:
            return "%s is not set ([] for a register that must serve no point)" % REGISTER_POINTS_VAR
        return reference_problem(variables[REGISTER_POINTS_VAR])

    def prepare(self, args, task_vars):
        hostvars = task_vars.get("hostvars") or {}
        groups = task_vars.get("groups") or {}
        batch = list(task_vars.get("ansible_play_batch") or [])
        variables = dict((host, self._variables(hostvars, host)) for host in dict.fromkeys(batch))
        if any(found.get(REGISTERS_VIA_VAR, DEFAULT_VIA) != DEFAULT_VIA for found in variables.values()):
            # The rest of the fleet only matters to a register audited from the cabinet (who else holds its
            # points): a play whose registers all use SSH does not read it.
            for host in groups.get(args["registers_group"]) or []:
                if host not in variables:
                    variables[host] = self._variables(hostvars, host)

        audited, problems, ssh_hosts = [], [], []
        for host in batch:
            via = variables[host].get(REGISTERS_VIA_VAR, DEFAULT_VIA)
            if via == DEFAULT_VIA:
                ssh_hosts.append(host)
                continue
            if via == "cabinet":
                problem = self._problem(variables[host])
            elif isinstance(via, _Unrenderable):
                problem = "%s cannot be evaluated: %s" % (REGISTERS_VIA_VAR, via.message)
            else:
                problem = "%s must be one of %s, not %r" % (REGISTERS_VIA_VAR, ", ".join(REGISTERS_VIA_CHOICES), via)
            if problem:
                problems.append({"host": host, "serial": variables[host].get(REGISTER_SERIAL_VAR), "declared": True,
                                 "changed": False, "failed": True, "msg": "%s: %s" % (host, problem)})
                continue
            audited.append(RegisterData(host, variables[host][REGISTER_SERIAL_VAR],
                                        [ref.strip() for ref in variables[host][REGISTER_POINTS_VAR]]))

        # Who the data says serves what, over the whole fleet (hosts outside this run's --limit included).
        serials = set()
        claimed_references = []
        for host, found in variables.items():
            if isinstance(found.get(REGISTER_SERIAL_VAR), str):
                serials.add(found[REGISTER_SERIAL_VAR].strip())
            if isinstance(found.get(REGISTER_POINTS_VAR), list):
                claimed_references.extend(found[REGISTER_POINTS_VAR])
        without_serial = sorted(host for host, found in variables.items() if not isinstance(found.get(REGISTER_SERIAL_VAR), str))
        manual = self._controller_variable(task_vars, MANUAL_REGISTERS_VAR) or []
        for register in manual if isinstance(manual, list) else []:
            if isinstance(register, dict) and isinstance(register.get("retail_points"), list):
                claimed_references.extend(register["retail_points"])
        declared_points = self._controller_variable(task_vars, POINTS_VAR)
        return {
            "audited": audited, "problems": problems, "ssh_hosts": ssh_hosts, "serials": serials,
            "claimed_references": claimed_references, "without_serial": without_serial,
            "declared_points": declared_points if isinstance(declared_points, list) else None,
        }

    # -- the audit ---------------------------------------------------------------------------------------

    @staticmethod
    def _managed_references(declared_points):
        references = []
        for spec in declared_points or []:
            if isinstance(spec, dict) and (spec.get("state") or "present") == "present":
                references.extend(spec[key] for key in ("id", "name") if isinstance(spec.get(key), str))
        return references

    def execute(self, args, prepared, client, task_vars):
        result = {"changed": False, "ssh_hosts": prepared["ssh_hosts"], "registers": [], "warnings": []}
        if not prepared["audited"] and not prepared["problems"]:
            result.update(skipped=True, msg="no register of this play is audited from the cabinet (%s)" % REGISTERS_VIA_VAR)
            return result

        view = CabinetView(client.list_points())
        entries = [audit_register(view, register, args["exclusive"], self.check_mode) for register in prepared["audited"]]
        entries.extend(prepared["problems"])
        undeclared = []
        if prepared["without_serial"]:
            result["warnings"].append(
                "%d register host(s) have no %s (%s): points held by registers the data does not declare are not "
                "reported, since the cabinet cannot tell those hosts from them" % (
                    len(prepared["without_serial"]), REGISTER_SERIAL_VAR, ", ".join(prepared["without_serial"][:5])
                    + (", ..." if len(prepared["without_serial"]) > 5 else "")))
        elif prepared["declared_points"] is None:
            result["warnings"].append("%s is not set: points held by registers the data does not declare are not "
                                      "reported" % POINTS_VAR)
        else:
            undeclared = undeclared_holders(view, prepared["serials"],
                                            view.point_ids(self._managed_references(prepared["declared_points"])),
                                            view.point_ids(prepared["claimed_references"]),
                                            check_mode=self.check_mode)
        entries.sort(key=lambda entry: entry["host"])

        failed = [entry for entry in entries if entry.get("failed")]
        drifted = [entry for entry in entries + undeclared if entry.get("changed")]
        if not self.check_mode:
            self._refuse_to_bind(entries, undeclared, result)
        else:
            result["changed"] = bool(drifted)
            entries.extend(undeclared)
            result["diff"] = [object_diff(
                "register %s%s" % (entry["serial"], "" if entry["declared"] else " (not in the inventory)"),
                {"retail_points": entry["changes"]["retail_points"]["before"]},
                {"retail_points": entry["changes"]["retail_points"]["after"]}) for entry in drifted]
        result["warnings"].extend(self._fleet_warnings(entries))
        result["registers"] = entries
        result["summary"] = {"registers": len(prepared["audited"]) + len(prepared["problems"]),
                             "drifted": len([e for e in entries if e.get("changed")]), "failed": len(failed),
                             "undeclared_registers": len(undeclared), "cabinet_points": len(view.points)}
        if failed and not result.get("failed"):
            result.update(failed=True, msg="%d register(s) could not be audited from the cabinet: %s" % (
                len(failed), "; ".join(entry["msg"] for entry in failed[:SHOWN_IN_MESSAGE])))
        return result

    @staticmethod
    def _fleet_warnings(entries):
        """The registers' warnings, one line per kind for the whole fleet (each entry keeps its own)."""
        missing = sorted(set(action["retail_point"] for entry in entries for action in entry.get("actions") or []
                             if action["id"] is None))
        empty = [entry["serial"] for entry in entries if entry.get("declared") and entry.get("actions")
                 and not entry.get("bindings")]
        warnings = []
        if missing:
            warnings.append("%d declared retail point(s) do not exist in the cabinet (%s); assuming an earlier task of "
                            "this check run would create them" % (len(missing), _some(missing)))
        if empty:
            warnings.append("%d register(s) hold no point in the cabinet (%s): not activated yet, or a mistyped %s; "
                            "every point declared for them is reported as a binding to make"
                            % (len(empty), _some(empty), REGISTER_SERIAL_VAR))
        return warnings

    @staticmethod
    def _refuse_to_bind(entries, undeclared, result):
        """Apply mode: nothing can be bound from the cabinet. No drift is fine; drift fails, before any write."""
        refused = [entry for entry in entries if entry.get("changed")]
        for entry in refused:
            entry.update(changed=False, failed=True, needed_actions=entry.pop("actions"), actions=[], changes={},
                         msg="register %s (%s): %s" % (entry["host"], entry["serial"], NEEDS_SSH))
        if undeclared:  # no mode can act on a register the data does not know: say so, do not fail
            result["warnings"].append("%d register(s) that the data does not declare hold points of %s: %s" % (
                len(undeclared), POINTS_VAR, _some(["%s (%s)" % (entry["serial"], ", ".join(
                    entry["changes"]["retail_points"]["before"])) for entry in undeclared])))
        if refused:
            result.update(failed=True, msg="%d register(s) audited from the cabinet differ from the data (%s), and %s" % (
                len(refused), ", ".join(entry["host"] for entry in refused[:SHOWN_IN_MESSAGE])
                + (", ..." if len(refused) > SHOWN_IN_MESSAGE else ""), NEEDS_SSH))
