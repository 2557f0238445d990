# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: retail_point
short_description: Manage one retail point (торговая точка) in the ModulKassa cabinet
version_added: 0.1.0
description:
  - Makes sure one retail point exists with the given attributes, or does not exist.
  - The point is found by O(name) within the account, or by O(id) when given. Only the attributes you set are
    managed; the others are left as they are in the cabinet.
  - A point created by this module gets the id C(uuid5(account login + name)), so a create that is retried after a
    lost answer, or raced by a second run, converges the same point instead of making a duplicate.
  - Returns the point and its activation status. A point is active when a register has redeemed its activation
    code (the cabinet's C(kktStatus) is not C(KKT_NOT_PLUGGED)).
  - For many points use M(modulkassa.pos.retail_points), which does the same per point with one list request.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  name:
    description:
      - Name of the point, unique within the account (1 to 255 characters, no control characters), compared as
        O(modulkassa.pos.retail_points#module:points[].name) says - letter case, Unicode compatibility forms and runs of
        whitespace do not count. A cabinet point equal to it only after that folding is this point (renamed to this
        spelling); two such cabinet points make the name ambiguous (an error naming the ids).
      - Required to create a point. With O(id) given, a different O(name) renames the point.
    type: str
  id:
    description:
      - Id (UUID) of the point. Use it for points created outside this collection whose name you want to change.
      - When a point with this id does not exist and O(state=present), it is created with this id.
    type: str
  state:
    description:
      - V(present) - the point exists with the given attributes.
      - V(active) - the point exists with the given attributes and is active. If no register holds it, a live
        activation code is made pending (the cabinet's C(Активировать)); staff type it on a register that is not
        reachable over SSH. With O(wait=true) the task waits until a register redeems it. Registers reachable over
        SSH are bound with M(modulkassa.pos.register) instead.
      - V(absent) - the point does not exist. The cabinet refuses to delete a point during its tax-office registration
        (the plan warns of it, and the failure says why). A point active on a register is deleted too; the plan says
        so (RV(notices), a warning, V(register) in RV(changes) and in the diff).
    type: str
    default: present
    choices: [present, active, absent]
  code_file:
    description:
      - With O(state=active), a file on the controller into which a newly issued activation code is written, merged
        with what the file holds, with mode C(0600). It is JSON - a mapping from point name to C(id), C(code) and
        C(issued_at). The code never appears in the task's output.
      - A pending code is kept only while this file holds it for this point. When the file is missing, has no entry
        for the point, or holds another code (the file died with an execution environment, was deleted, or the code
        was re-made in the cabinet), the pending code is replaced with a fresh one (the old one stops working) and
        written here; RV(changes) then shows V(sealed_code) (V(missing) or V(stale) before, V(sealed) after). Keep
        the file on a persistent path, and do not delete it while codes are pending.
      - Without it, staff read the pending code in the cabinet.
    type: path
  reissue_code:
    description:
      - With O(state=active), replace a pending code with a fresh one even when one is already pending (the old code
        stops working). Use it when a code was lost or may have leaked.
    type: bool
    default: false
  wait:
    description:
      - With O(state=active), wait until a register redeems the code (the cabinet's C(Ожидание активации)); fail after
        O(wait_timeout) seconds. The code stays pending after a timeout.
      - While it waits, a progress line is printed every 30 seconds (environment variable
        C(MODULKASSA_PROGRESS_INTERVAL) on the controller, in seconds; V(0) turns it off), so that AWX and
        ansible-runner do not drop a silent job. The cabinet is read once at once, then with a delay growing from
        0.2 s to 5 s.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true).
    type: float
    default: 300
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.cabinet.point_attributes
  - modulkassa.pos.attributes
attributes:
  check_mode:
    details:
      - The point is read; nothing is written and no code is issued. The result holds the predicted point.
      - With O(state=active) and O(wait=true), check mode does not wait.
  diff_mode:
    details: Before and after of the managed attributes; on create and delete all attributes are shown.
seealso:
  - module: modulkassa.pos.retail_points
  - module: modulkassa.pos.retail_point_info
"""

EXAMPLES = r"""
- name: A shop exists with its attributes
  modulkassa.pos.retail_point:
    cabinet_url: https://my.modulkassa.ru
    cabinet_login: ops@example.com
    cabinet_password: "{{ vault_modulkassa_password }}"
    name: Moscow Tverskaya 1
    address: Moscow, Tverskaya st. 1
    phone: +7 495 123-45-67
    inn: "7707083893"
    kpp: "773601001"
    tax_mode: COMMON
    vat: VAT_22
    fiscal_service_enabled: false
  register: shop

- name: Show whether a register holds it
  ansible.builtin.debug:
    msg: "{{ shop.point.activation }}"

- name: Connection options from module_defaults (or MODULKASSA_URL/LOGIN/PASSWORD in the environment)
  module_defaults:
    group/modulkassa.pos.cabinet:
      cabinet_url: "{{ modulkassa_url }}"
      cabinet_login: "{{ modulkassa_login }}"
      cabinet_password: "{{ modulkassa_password }}"
  block:
    - name: Rename a point found by id
      modulkassa.pos.retail_point:
        id: 3769574b-d082-4c9e-9d4f-1b6a5d3e2f10
        name: Kazan Baumana 5

    - name: A shop whose register staff activate by hand gets a pending code, sealed in a file
      modulkassa.pos.retail_point:
        name: Tver Sovetskaya 3
        state: active
        code_file: /secure/activation-codes.json
        wait: true
        wait_timeout: 900

    - name: A closed shop is gone
      modulkassa.pos.retail_point:
        name: Tver Sovetskaya 3
        state: absent
"""

RETURN = r"""
action:
  description: What was done (or, in check mode, would be done).
  returned: success
  type: str
  sample: update
  choices: [create, update, delete, unchanged, absent]
id:
  description: Id of the point (the id it would get, in check mode, for a create).
  returned: success
  type: str
  sample: 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a
code_issued:
  description: Whether a new activation code was issued (O(state=active) only; the code itself is never returned).
  returned: success
  type: bool
name:
  description: Name of the point (declared, or the cabinet's when the point was found by id).
  returned: success
  type: str
  sample: Moscow Tverskaya 1
changed_fields:
  description: Managed attributes whose value differs (or differed) from the declared one.
  returned: success
  type: list
  elements: str
  sample: [phone, vat_tag]
changes:
  description:
    - Each managed attribute that differs (or differed), with its canonical value in the cabinet (V(before)) and
      the declared one (V(after)); returned with and without C(--diff). A create or delete adds V(state); with
      O(state=active), V(activation) (V(inactive), V(pending), V(active)) when it changes, and V(sealed_code) when a
      pending code is replaced because O(code_file) had no copy of it. A delete of a point active on a register adds
      V(register) (its serial before, V(null) after). Empty when nothing changes.
    - A VAT rate given by name (O(vat)) is compared and shown as V(vat_tag), the cabinet's number for it.
  returned: success
  type: dict
  sample: {vat_tag: {before: 1102, after: 1113}}
notices:
  description:
    - What the user should know that is neither a change nor a failure - a tax mode the cabinet holds that was
      abolished, a delete that takes the point from its register, or one the cabinet will refuse because the
      point's registration is under way. Also given as task warnings and in the drift report.
  returned: when there is something to say
  type: list
  elements: str
  sample: ["its tax mode in the cabinet is ENVD. ЕНВД (ENVD) was abolished on 1 January 2021 ..."]
point:
  description:
    - The point as the cabinet returned it after the change (predicted in check mode); V(null) when absent.
    - The activation code (C(posLinkToken)) is never returned; RV(point.activation.code_pending) tells whether one is set.
  returned: success
  type: dict
  contains:
    id:
      description: Id of the point.
      type: str
    name:
      description: Name of the point.
      type: str
    kktStatus:
      description: State of the register bound to the point as the cabinet reports it.
      type: str
      sample: KKT_NOT_PLUGGED
    activation:
      description: Activation status derived from the cabinet's fields.
      type: dict
      contains:
        active:
          description: Whether a register has activated the point (C(kktStatus) is not C(KKT_NOT_PLUGGED)).
          type: bool
        kkt_status:
          description: The cabinet's C(kktStatus).
          type: str
        register_serial:
          description: Serial number of the register holding the point, when the cabinet says (C(kkmInfo)).
          type: str
        code_pending:
          description: Whether an activation code is set and not yet redeemed.
          type: bool
    health:
      description:
        - The register health of the point (its C(kktStatus) and C(registrationRequestStatus) judged by the
          collection's health table), as RV(modulkassa.pos.retail_point_info#module:points[].health) describes it -
          C(kkt_status), C(registration_status), C(severity), C(trouble) and C(findings).
      type: dict
      returned: success
"""
