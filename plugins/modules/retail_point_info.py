# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: retail_point_info
short_description: List retail points of a ModulKassa cabinet account
version_added: 0.1.0
description:
  - Reads the account's retail points (one request) and returns those matching every filter given.
  - Read-only; it behaves the same in check mode.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  id:
    description:
      - Only the point with this id, a UUID (one request for that point).
    type: str
  name:
    description:
      - Only the point with this exact name (surrounding spaces ignored).
    type: str
  inn:
    description:
      - Only points with this INN.
    type: str
  active:
    description:
      - Only active points (V(true)) or only points no register has activated (V(false)).
    type: bool
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.attributes.read_only
  - modulkassa.pos.attributes
seealso:
  - module: modulkassa.pos.retail_point
"""

EXAMPLES = r"""
- name: Points no register has activated yet
  modulkassa.pos.retail_point_info:
    active: false
  register: waiting

- name: List them
  ansible.builtin.debug:
    msg: "{{ waiting.points | map(attribute='name') | list }}"

- name: Every point of the account
  modulkassa.pos.retail_point_info:
  register: account

- name: The registers in trouble, and what to do (for example a missing fiscal drive)
  ansible.builtin.debug:
    msg: "{{ item.name }} ({{ item.activation.register_serial }}): {{ item.health.findings | map(attribute='action') | join('; ') }}"
  loop: "{{ account.points | selectattr('health.trouble') | list }}"
  loop_control:
    label: "{{ item.name }}"
"""

RETURN = r"""
points:
  description:
    - The matching points as the cabinet returns them, each with an RV(points[].activation) summary.
    - The activation code (C(posLinkToken)) is never returned.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the point (a UUID), as O(modulkassa.pos.retail_point#module:id) takes it.
      type: str
      sample: 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a
    name:
      description: Name of the point, as the cabinet spells it.
      type: str
      sample: Moscow Tverskaya 1
    activation:
      description: Activation status (V(active), V(kkt_status), V(register_serial), V(code_pending)).
      type: dict
    health:
      description:
        - What the cabinet says about the register holding the point (C(kktStatus)) and its registration with the tax
          office (C(registrationRequestStatus)), judged by the collection's health table (C(docs/gitops.md),
          "Register health"). A missing C(kktStatus) reads as V(KKT_NOT_PLUGGED), a missing
          C(registrationRequestStatus) as V(NOT_EXISTS).
      type: dict
      returned: success
      contains:
        kkt_status:
          description: The cabinet's C(kktStatus).
          type: str
          sample: FN_NOT_PLUGGED
        registration_status:
          description: The cabinet's C(registrationRequestStatus).
          type: str
          sample: NOT_EXISTS
        severity:
          description:
            - The worst of RV(points[].health.findings), V(ok) without any - V(info) (a registration under way), V(warning)
              (the register's app is out of date, or a state the collection does not know) or V(critical) (the register
              cannot issue receipts the tax office accepts).
          type: str
          choices: [ok, info, warning, critical]
        trouble:
          description: Whether the severity is V(warning) or V(critical).
          type: bool
        findings:
          description:
            - Each status that is not V(ok), worst first, with C(field) (V(kkt_status) or V(registration_status)),
              C(state), C(severity), C(known) (V(false) for a value the collection does not know), C(label) (the
              cabinet's words for it) and C(action) (what to do).
          type: list
          elements: dict
          sample: [{field: kkt_status, state: FN_NOT_PLUGGED, severity: critical, known: true, label: ФН не подключен,
                    action: "the register reports no fiscal drive: insert or replace the ФН, then re-register it with the
                    tax office (a new ФН needs a new registration)"}]
"""
