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
  - modulkassa.pos.attributes.cabinet_action
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
      description: Id of the point.
      type: str
    name:
      description: Name of the point.
      type: str
    activation:
      description: Activation status (V(active), V(kkt_status), V(register_serial), V(code_pending)).
      type: dict
"""
