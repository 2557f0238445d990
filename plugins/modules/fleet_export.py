# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_export
short_description: Write a ModulKassa cabinet account as it is, as fleet data for git
version_added: 0.1.0
description:
  - Reads the account's retail points with one request (C(GET /api/v1/retail-points)) and writes them, with the
    registers the cabinet shows holding them, as fleet data in the layout of the collection's C(docs/fleet.md) - an
    inventory directory that C(modulkassa.pos.validate), C(modulkassa.pos.audit) and C(modulkassa.pos.site) read.
  - "Files written in O(dest): C(group_vars/all/retail_points.yml) (C(modulkassa_points), with
    C(modulkassa_points_purge: false)), C(group_vars/all/cabinet.yml) (comments only: which account, where the
    credentials come from), C(registers.yml) (the hosts of the C(registers) group) and C(group_vars/registers.yml)
    (C(modulkassa_registers_via: cabinet) and placeholders for the SSH user)."
  - "Every point is written with the managed attributes the cabinet holds (an attribute the cabinet leaves empty is
    not declared, so it stays unmanaged); INN, KPP, phone and ids are quoted strings; the tax mode and the VAT rate
    by their documented names (C(vat: VAT_22), not the cabinet's number). The C(id) is written wherever it is not
    the one the collection derives from the login and the name, and wherever the name does not identify the point
    alone, so that renaming the point in git renames it in the cabinet instead of creating a new one."
  - Every register that holds points (the C(kkmInfo.serialNumber) of the active points) becomes a host of the
    C(registers) group, named after its serial (the serial itself when it is made of letters, digits, C(.), C(_) and
    C(-) only; otherwise its safe characters plus 8 hex digits of its SHA-256), with C(modulkassa_register_serial)
    and C(modulkassa_register_points). The cabinet does not know a register's SSH address or user; C(ansible_host)
    is left as a commented placeholder.
  - What the fleet data cannot express is written as a comment beside its point, never dropped silently - the
    register that holds the point or that none does, C(kktStatus), C(registrationRequestStatus), a pending
    activation code (never the code), C(fullAddress), the names of other settings and keys, an C(ENVD) tax mode,
    a VAT number the tax table does not name, and any value the point model refuses (such a value is left
    undeclared, so validation passes and the attribute stays as the cabinet has it).
  - The output is byte-stable - exporting an unchanged account twice gives identical files (no timestamp) - and
    ordered (points by name, registers by serial, keys in a fixed order), so a C(git diff) between two exports
    reads as the change in the cabinet. A re-export over the same files reports no change.
  - Refuses a non-empty O(dest) unless O(force) is set, before any request.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  dest:
    description:
      - The directory to write the fleet data to, on the controller. Created (with its parents) when missing.
      - A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    required: true
  force:
    description:
      - Write into O(dest) even when it is not empty. Only the export's own files are replaced (and only those whose
        text changes); any other file there is left as it is.
    type: bool
    default: false
  inn:
    description:
      - Export only the points whose INN is one of these (one legal entity or individual entrepreneur each).
      - Each must be a valid INN, quoted in YAML; checked before any request.
    type: list
    elements: str
    default: []
  names:
    description:
      - Export only the points whose name matches one of these shell-style patterns (C(*) any characters, C(?) one,
        C([...]) one of a set, C([[]) a literal C([)), matched against the whole name. Names and patterns are compared
        as the collection compares point names, ignoring letter case, Unicode compatibility forms and runs of
        whitespace (C(shop *) matches C(Shop 1)); a pattern equal to a name matches it. The same matcher as
        O(modulkassa.pos.retail_points#module:purge_exclude). Shell-style
        rather than regular expressions, because point names are full of characters that mean something else in a
        regular expression (C(.), C(\(\)), C(+)).
      - A single string is one pattern; it is not split at commas, which point names often hold.
      - With O(inn) too, a point must satisfy both.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.attributes
attributes:
  check_mode:
    details: Reads the cabinet and reports which files it would create or change (RV(files)), and writes none.
  diff_mode:
    details: The text of every file that is created or changes, before and after.
notes:
  - With a partial export (O(inn), O(names)), a register that also holds points outside it is written with the
    points inside, and a comment names the others - the C(modulkassa.pos.registers) role releases every point a
    register is not declared for, so declare them or keep that register out of C(site) runs.
  - The cabinet's password, the activation codes (C(posLinkToken)) and the values of the settings the fleet data does
    not manage are written nowhere - not in the files, the result or the diff. The login and the URL (without any
    user or password it carries) appear in a comment of C(group_vars/all/cabinet.yml), because the ids the
    collection derives depend on the login.
  - Adopting an account step by step (export, review, first audit, first apply) is described in the collection's
    C(docs/fleet.md), "Adopting an existing account". The playbook C(modulkassa.pos.export) runs this module.
seealso:
  - module: modulkassa.pos.fleet_validate
  - module: modulkassa.pos.retail_point_info
"""

EXAMPLES = r"""
- name: Export the account (credentials from MODULKASSA_URL, MODULKASSA_LOGIN, MODULKASSA_PASSWORD)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The whole account as fleet data
      modulkassa.pos.fleet_export:
        dest: chain-inventory

    - name: Re-export one legal entity's shops in Moscow over an earlier export, to see what changed with git diff
      modulkassa.pos.fleet_export:
        dest: chain-inventory
        force: true
        inn:
          - "7701528419"
        names:
          - "Василёк Москва *"
      register: exported

    - name: The files the re-export changed
      ansible.builtin.debug:
        msg: "{{ exported.files | rejectattr('action', 'eq', 'unchanged') | map(attribute='path') | list }}"
"""

RETURN = r"""
dest:
  description: The absolute path of the directory written to (or that would be, in check mode).
  returned: success
  type: str
  sample: /home/ops/chain-inventory
files:
  description: The export's files, relative to RV(dest), and what was (in check mode, would be) done to each.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to RV(dest).
      type: str
      sample: group_vars/all/retail_points.yml
    action:
      description: V(create), V(update) (its text changes) or V(unchanged).
      type: str
      sample: create
    bytes:
      description: Size of the file's text in bytes (UTF-8).
      type: int
      sample: 18234
summary:
  description: What the export holds.
  returned: success
  type: dict
  contains:
    account_points:
      description: Points of the account (before the filters).
      type: int
    points:
      description: Points exported.
      type: int
    ids_kept:
      description: Exported points written with their id.
      type: int
    registers:
      description: Registers written as hosts of the C(registers) group.
      type: int
    points_without_register:
      description: Names of the exported points that no register holds.
      type: list
      elements: str
    points_with_values_not_declared:
      description: Exported points holding a value the fleet data cannot declare (named in a comment beside each).
      type: int
    registers_outside:
      description: Registers left out because every point they hold is outside a partial export.
      type: int
    registers_holding_points_outside:
      description: Registers written that also hold points outside a partial export.
      type: int
registers:
  description: The registers written, by serial.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: The inventory name.
      type: str
      sample: SN-0001234
    serial:
      description: The register's serial (C(kkmInfo.serialNumber)).
      type: str
      sample: SN-0001234
    points:
      description: The points it holds, by name (by id where the name does not identify the point alone).
      type: list
      elements: str
"""
