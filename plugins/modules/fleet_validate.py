# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_validate
short_description: Check a chain's fleet data (retail points, registers and their bindings) before anything runs
version_added: 0.1.0
description:
  - Reads the fleet data from the inventory - the controller's C(modulkassa_points), C(modulkassa_points_purge),
    C(modulkassa_manual_registers) and C(modulkassa_code_file), and the C(modulkassa_register_points),
    C(modulkassa_register_serial) and C(modulkassa_registers_via) of every host of the registers group - and checks it
    against the collection's JSON Schema (C(docs/fleet.schema.json)) and the rules a schema cannot express.
  - Reports every problem at once, each with the path of the offending field, for example
    C(modulkassa_points[3].inn) or C(hosts.reg07.modulkassa_register_points[1]).
  - "The rules: wrong types; unknown keys in a point or a register without SSH; misspelt fleet variables (within two
    letters of a known one); bad INN (checksum), KPP, phone, tax mode, VAT tag, id; a KPP with a 12-digit INN;
    duplicate point names; a point declared twice (the same or different attributes); a register naming a point
    that is not declared, or declared absent; a point claimed by two registers (they would take it from each other on
    every run); a register host without C(modulkassa_register_points); a register whose group overrides a controller
    variable (that value would never be applied); register variables on a host outside the registers group or on
    the controller; registers without SSH without a C(modulkassa_code_file); a register audited from the cabinet
    without a serial, and two registers with one serial."
  - Makes no request and needs no cabinet credentials, so a pull request can be checked anywhere
    (C(ansible-playbook -i inventories/prod modulkassa.pos.validate)). C(modulkassa.pos.site) runs it first.
  - Run it once, on the controller (a play on localhost); it reads the other hosts through C(hostvars).
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  registers_group:
    description:
      - The inventory group whose hosts are the registers reachable over SSH.
    type: str
    default: registers
  saved_plan:
    description:
      - Path of a saved plan (C(tools/modulkassa-plan --out)) about to be applied. The task fails when the digest of
        the desired data (RV(desired_digest)) or the collection version is not the plan's, or the file was changed.
    type: path
extends_documentation_fragment:
  - modulkassa.pos.attributes.read_only
  - modulkassa.pos.attributes
notes:
  - The layout, every variable and every rule are described in the collection's C(docs/fleet.md).
seealso:
  - module: modulkassa.pos.retail_points
  - module: modulkassa.pos.register
"""

EXAMPLES = r"""
- name: Check the fleet data of this inventory (no credentials, no request)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fleet data is valid
      modulkassa.pos.fleet_validate:

- name: Registers live in another group
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Fleet data is valid
      modulkassa.pos.fleet_validate:
        registers_group: pos_registers
      register: fleet

    - name: Points no register serves yet
      ansible.builtin.debug:
        msg: "{{ fleet.summary.points_without_register }}"
"""

RETURN = r"""
desired_digest:
  description:
    - The sha256 of the desired data (the fleet variables plans are made from; no credential), as a saved plan
      records it.
  returned: when the data is valid
  type: str
  sample: 9f2c0d6b1e7a4c3d5b8e0f1a2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d
msg:
  description: One line; on failure it lists the first 20 problems.
  returned: always
  type: str
  sample: "The fleet data has 1 problem; nothing was sent to the cabinet. modulkassa_points[3].inn: must be 10 or 12 digits with a valid INN checksum"
errors:
  description: Every problem, sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the offending field in the fleet document.
      type: str
      sample: hosts.reg07.modulkassa_register_points[1]
    message:
      description: What is wrong with it.
      type: str
      sample: names retail point 'Kazan Baumana 6', which modulkassa_points does not declare (did you mean 'Kazan Baumana 5'?)
summary:
  description: Counts of what the data declares.
  returned: always
  type: dict
  contains:
    points:
      description: Points declared present.
      type: int
    points_absent:
      description: Points declared absent.
      type: int
    purge:
      description: Whether undeclared points of the account would be deleted.
      type: bool
    registers:
      description: Hosts in the registers group.
      type: int
    manual_registers:
      description: Registers without SSH.
      type: int
    bindings:
      description: Points that some register (over SSH or by hand) serves.
      type: int
    points_without_register:
      description: Names of present points that no register serves.
      type: list
      elements: str
"""
