# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift_summary filter (docs: drift_summary.yml): what site.yml and audit.yml publish with set_stats.

The rules live in plugins/plugin_utils/_drift_summary.py; this file only reads the registers' registered results
from ``hostvars``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.modulkassa.pos.plugins.plugin_utils._drift_summary import (
    DEFAULT_MAX_OBJECTS,
    drift_summary as build_summary,
    unfinished,
)

REGISTER_RESULT_VAR = "registers_result"  # registered by the registers role's register task
CABINET_LISTING_VAR = "registers_cabinet"  # the registers role's retail_point_info listing (run_once: every host has it)
CABINET_AUDIT_VAR = "registers_cabinet_audit"  # the registers role's bindings_audit (run_once: every host has it)


def drift_summary(points_result, registers=None, hostvars=None, check_mode=False, finished=True,
                  max_objects=DEFAULT_MAX_OBJECTS, register_result_var=REGISTER_RESULT_VAR):
    if not finished:
        return unfinished(check_mode)
    if points_result is not None and not isinstance(points_result, Mapping):
        raise AnsibleFilterError("drift_summary expects the registered result of modulkassa.pos.retail_points, got %s"
                                 % type(points_result).__name__)
    registers = registers or {}
    if not isinstance(registers, Mapping):
        raise AnsibleFilterError("drift_summary: registers must be a mapping with hosts and failed, got %s"
                                 % type(registers).__name__)
    hosts = list(registers.get("hosts") or [])
    if hosts and hostvars is None:
        raise AnsibleFilterError("drift_summary: pass hostvars=hostvars to read the registers' results")
    results, once = {}, {}
    for host in hosts:
        value = hostvars[host].get(register_result_var) if host in hostvars else None
        results[str(host)] = dict(value) if isinstance(value, Mapping) else None
        for name in (CABINET_LISTING_VAR, CABINET_AUDIT_VAR):
            if name not in once and host in hostvars and isinstance(hostvars[host].get(name), Mapping):
                once[name] = dict(hostvars[host][name])
    # The registers audited from the cabinet have no register task: the audit's result, passed by the playbook
    # (registers.cabinet_audit) or registered by the registers role on its hosts, has an entry for each, which
    # build_summary takes as that register's result (a register the data does not declare: host null).
    audit = registers.get("cabinet_audit")
    return build_summary(dict(points_result) if points_result is not None else None, results,
                         [str(host) for host in registers.get("failed") or []], check_mode=check_mode,
                         max_objects=max_objects, cabinet_listing=once.get(CABINET_LISTING_VAR),
                         cabinet_audit=once.get(CABINET_AUDIT_VAR) or (dict(audit) if isinstance(audit, Mapping) else None))


class FilterModule(object):

    def filters(self):
        return {"drift_summary": drift_summary}
