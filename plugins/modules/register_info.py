# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name: one exec of the agent's status.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: register_info
short_description: Read a ModulKassa register's serial and bindings from its agent
version_added: 0.1.0
description:
  - Runs C(<agent> status) on the register host (one exec over the host's connection) and returns its serial,
    model, app version and the retail points it holds. Also sets the C(modulkassa_register) fact.
  - Read-only; the cabinet is not called and no Python is needed on the register for this task.
author:
  - modulkassa.pos developers (@modulkassa-pos)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes.facts
  - modulkassa.pos.attributes.read_only
  - modulkassa.pos.attributes
  - modulkassa.pos.register_agent
attributes:
  facts:
    support: full
seealso:
  - module: modulkassa.pos.register
  - module: modulkassa.pos.bindings_audit
    description: The bindings of every register from one read of the cabinet, for registers without SSH.
"""

EXAMPLES = r"""
- name: Audit which points each register holds
  hosts: registers
  gather_facts: false
  tasks:
    - name: Read the register
      modulkassa.pos.register_info:
      register: reg

    - name: Show it
      ansible.builtin.debug:
        msg: "{{ reg.register.serial }} holds {{ reg.register.bindings | map(attribute='name') | list }}"
"""

RETURN = r"""
register:
  description: The register's status.
  returned: success
  type: dict
  contains:
    serial:
      description: Serial number of the register.
      type: str
      sample: SN-REG01
    model:
      description: Model of the register.
      type: str
    app_version:
      description: Version of the POS app (agent).
      type: str
    synced:
      description: Whether the agent confirmed its bindings with the cabinet just now (V(false) - its local view).
      type: bool
    bindings:
      description: The points the register holds.
      type: list
      elements: dict
      contains:
        retail_point_id:
          description: Id of the point.
          type: str
        name:
          description: Name of the point.
          type: str
        since:
          description: When the register redeemed the point's code (ISO 8601).
          type: str
ansible_facts:
  description: The same data as RV(register), as the C(modulkassa_register) fact.
  returned: success
  type: dict
  contains:
    modulkassa_register:
      description: The register's status.
      type: dict
"""
