# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bindings_audit
short_description: Audit the bindings of every register from one read of the ModulKassa cabinet, without SSH
version_added: 0.1.0
description:
  - For auditors with read access to the cabinet and no SSH key to the registers. The cabinet says which register
    holds each active retail point (C(kkmInfo.serialNumber)), so one list of the account's points gives the bindings
    of the whole fleet.
  - Runs once for the play, on the controller, and opens no connection to any host (it bypasses the host loop, like
    M(ansible.builtin.add_host)). Use it in a play on the registers.
  - Audits the hosts of the play's current batch whose C(modulkassa_registers_via) is V(cabinet), reading each one's
    C(modulkassa_register_serial) and C(modulkassa_register_points) through C(hostvars) (the fleet data, see the
    collection's C(docs/fleet.md)). Hosts with V(ssh) (the default) are left to M(modulkassa.pos.register) and listed
    in RV(ssh_hosts).
  - Each register is planned by the rules of M(modulkassa.pos.register), with the points the cabinet shows on its
    serial in place of its agent's list - the same actions (V(bind), V(rebind), V(unbind) with O(exclusive)) and a
    result per register in the same shape (C(serial), C(changes), C(actions)), so the
    C(modulkassa.pos.drift_report) callback and C(tools/modulkassa-plan) treat both modes alike.
  - Also reports every retail point of C(modulkassa_points) held by a register the data does not declare (no host of
    O(registers_group) has its serial) and that no register of the data serves (a host, or a register without SSH
    in C(modulkassa_manual_registers)). Points that C(modulkassa_points) does not declare are not managed and not
    reported. This check needs a serial on every host of O(registers_group).
  - A register the cabinet shows holding nothing (not activated yet, or a mistyped serial) gets a warning when points
    are declared for it.
  - What only the register knows is not seen - a binding the register still lists while the cabinet gives the point
    to another register, bindings of another account's points, the agent's health. The SSH audit
    (M(modulkassa.pos.register) in check mode) sees those.
  - It never writes. Outside check mode a register that differs from the data fails the task before anything is
    written (binding needs SSH); a fleet without drift passes.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  registers_group:
    description:
      - The inventory group whose hosts are the fleet's registers. Their serials tell the registers the data declares
        from the others, their points which points the data gives to a register, also when C(--limit) leaves them
        out of the run.
    type: str
    default: registers
  exclusive:
    description:
      - Also report, as points to release, the points a register holds that its C(modulkassa_register_points) does
        not list (the M(modulkassa.pos.register) option of the same name).
    type: bool
    default: true
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.attributes
attributes:
  bypass_host_loop:
    support: full
    details: One run for the play's batch, whatever the number of registers; C(run_once) is implied.
  check_mode:
    details:
      - One list of the cabinet, no write. C(changed) means some register would change.
      - A declared point that does not exist yet (an earlier task of the check run would create it) gives a warning
        and is reported as a binding that would be made.
  diff_mode:
    details: Per register that would change, its serial and the names of the points it holds, now and declared.
notes:
  - Requests - one C(GET /api/v1/retail-points) for the whole play; none when no host of the play is audited from
    the cabinet (the task is then skipped).
  - Use the default C(linear) strategy; with C(serial), each batch is audited with its own read.
seealso:
  - module: modulkassa.pos.register
  - module: modulkassa.pos.fleet_validate
"""

EXAMPLES = r"""
- name: Audit the registers' bindings from the cabinet alone (no SSH key needed)
  hosts: registers
  gather_facts: false
  check_mode: true
  vars:
    modulkassa_registers_via: cabinet
  tasks:
    - name: Every register's bindings, from one read of the cabinet
      modulkassa.pos.bindings_audit:
      register: audit

    - name: Registers that differ from the data
      ansible.builtin.debug:
        msg: "{{ audit.registers | selectattr('changed') | map(attribute='serial') | list }}"
      run_once: true
"""

RETURN = r"""
registers:
  description:
    - One entry per register audited from the cabinet (by inventory host name), then one per register the data does
      not declare that holds a managed point (check mode only; outside check mode they are warnings).
    - Each entry has the keys of M(modulkassa.pos.register)'s result.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The inventory host; null for a register the data does not declare.
      type: str
    serial:
      description: The register's serial (C(modulkassa_register_serial), or the cabinet's C(kkmInfo.serialNumber)).
      type: str
    declared:
      description: Whether the data declares this register (false - no host of O(registers_group) has its serial).
      type: bool
    changed:
      description: Whether its bindings would change.
      type: bool
    changes:
      description:
        - When they would change, V(retail_points) with the sorted names of the points it holds now (V(before)) and
          after a converge (V(after)); empty otherwise.
      type: dict
      sample: {retail_points: {before: [Moscow Tverskaya 1], after: [Moscow Tverskaya 1, Kazan Baumana 5]}}
    actions:
      description: What a converge over SSH would do, per point (the actions of M(modulkassa.pos.register)).
      type: list
      elements: dict
      contains:
        action:
          description: V(bind), V(rebind) (the point moves from another register) or V(unbind).
          type: str
        id:
          description: Id of the point (null for a point that does not exist yet).
          type: str
        retail_point:
          description: Name of the point.
          type: str
        previous_register:
          description: Serial of the register that holds it now, if any.
          type: str
    bindings:
      description: The points the cabinet shows on this serial.
      type: list
      elements: dict
      sample: [{retailPointId: 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a, name: Moscow Tverskaya 1, since: "2026-11-24T08:00:00Z"}]
    needed_actions:
      description: Outside check mode, for a register that differs from the data, the actions binding would need.
      type: list
      elements: dict
    failed:
      description: True when this register could not be audited, or (outside check mode) would need a binding.
      type: bool
    msg:
      description: Why, when V(failed).
      type: str
    warnings:
      description: Warnings about this register (also in the task's warnings).
      type: list
      elements: str
    health:
      description:
        - The health of the points this register holds or declares, from the same read of the cabinet (no request of
          its own), in the shape of the C(health) that M(modulkassa.pos.register) returns - C(severity) and
          C(trouble) of the points it holds, and C(points), each with C(id), C(name), C(register_serial),
          C(kkt_status), C(registration_status), C(severity), C(trouble) and C(findings) (C(docs/gitops.md),
          "Register health").
      type: dict
      returned: when the register could be planned
ssh_hosts:
  description: The hosts of the play's batch whose bindings are left to the SSH audit (C(modulkassa_registers_via) ssh).
  returned: always
  type: list
  elements: str
summary:
  description: Counts.
  returned: unless skipped
  type: dict
  contains:
    registers:
      description: Registers audited from the cabinet.
      type: int
    drifted:
      description: Entries of RV(registers) that would change.
      type: int
    failed:
      description: Registers that could not be audited (bad data, a point name two cabinet points share).
      type: int
    undeclared_registers:
      description: Registers the data does not declare that hold a managed point.
      type: int
    cabinet_points:
      description: Points in the cabinet account.
      type: int
"""
