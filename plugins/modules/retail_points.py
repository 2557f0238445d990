# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name, which runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: retail_points
short_description: Converge the whole set of retail points of a ModulKassa cabinet account in one call
version_added: 0.1.0
description:
  - Takes the whole desired list of retail points, reads the account's points with one request, plans per point
    (create, update, delete, unchanged), and performs the writes with bounded concurrency.
  - Each point is handled exactly as M(modulkassa.pos.retail_point) handles one (the same planner), so the two
    modules never disagree about a field.
  - Every declared point is validated before the first request; one bad entry fails the task with the path of the
    offending field (for example C(points[3].inn)) and nothing is written.
  - With O(purge=true), points of the account that the list does not declare are deleted, except those a guard
    keeps - a point active on a register, a point whose tax-office registration is under way, a point matching
    O(purge_exclude). Each kept point is in RV(results) with V(action=keep) and its RV(results[].reason), in check
    mode and in apply; one warning names those kept because a register or the tax office holds them.
  - A purge that would delete more than O(purge_max) points, or any point while the list declares none as present
    (an empty or truncated data file), fails before any write - no create, update or delete - saying how many
    points and how to allow it. RV(results) then hold the refused plan, every write V(not_attempted).
  - An explicit O(points[].state=absent) deletes the point it names whatever the guards say. When that point is
    active on a register, the plan says so (RV(results[].notices), a warning, and V(register) in RV(results[].changes)
    and the diff). The cabinet refuses to delete a point whose registration is under way; the plan warns of it, and
    the failed write says why.
  - When some writes fail, the others still complete; the task fails and its RV(results) say per point what was
    done and what was not. A re-run converges the rest.
  - When the run's controller (C(ansible-playbook)) is gone (a cancelled CI or AWX job; from ansible-core 2.19 a kill
    of its process group does not reach the workers), no new write starts; the writes in flight finish, the rest are
    V(not_attempted). The next run converges them.
  - While the writes run, a progress line (writes done and failed, no point data) is printed every 30 seconds
    (environment variable C(MODULKASSA_PROGRESS_INTERVAL) on the controller, in seconds; V(0) turns it off), so that
    AWX and ansible-runner do not drop a silent job.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  points:
    description:
      - The desired retail points. Each needs O(points[].name), or O(points[].id) for a point created elsewhere.
      - Names and ids must be unique in the list.
      - Exactly one of O(points) and O(points_file) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the point, unique within the account (1 to 255 characters, no control characters).
          - Names are compared ignoring letter case, Unicode compatibility forms and runs of whitespace, so C(Shop 1) and
            C(shop  1) are one name. A cabinet point whose name equals this one only after that folding is this point (the
            update renames it to this spelling); two such cabinet points make the name ambiguous (an error naming the ids).
          - Required to create a point. With O(points[].id) given, a different name renames the point.
        type: str
      id:
        description:
          - Id (UUID) of the point. Without it, new points get C(uuid5(account login + name)).
        type: str
      state:
        description:
          - V(present) - the point exists with the given attributes; V(absent) - it does not exist.
        type: str
        default: present
        choices: [present, absent]
      address:
        description:
          - Address of the point as printed on receipts (the cabinet's C(address)).
        type: str
      phone:
        description:
          - Phone of the point in any common form; stored and compared as the cabinet's 10 digits.
        type: str
      inn:
        description:
          - INN, 10 digits (legal entity) or 12 digits (individual entrepreneur), with a valid checksum. Quote it in YAML.
        type: str
      kpp:
        description:
          - KPP, 9 characters. Must be empty when the INN has 12 digits.
          - Required to create a point whose INN has 10 digits (a legal entity), and to change such a point's INN or
            KPP; the whole call is refused before any write, naming C(points[N].kpp). A point the cabinet holds
            without a KPP is left as it is while neither its INN nor its KPP changes.
        type: str
      tax_mode:
        description:
          - Default taxation mode (C(settings.defaultTaxMode)).
          - V(ENVD) was abolished in 2021 - refused for a new point or a change of mode; a point the cabinet holds
            in it is reported in RV(results[].notices) and as a warning.
        type: str
        choices: [COMMON, SIMPLIFIED, SIMPLIFIED_WITH_EXPENSE, COMMON_AGRICULTURAL, PATENT, ENVD]
      vat:
        description:
          - Default VAT rate by name (see O(modulkassa.pos.retail_point#module:vat)); the same setting as
            O(points[].vat_tag), give one of them.
        type: str
        choices: [VAT_22, VAT_22_122, VAT_20, VAT_20_120, VAT_10, VAT_10_110, VAT_7, VAT_7_107, VAT_5, VAT_5_105,
                  VAT_0, NO_VAT]
      vat_tag:
        description:
          - Default VAT rate as the cabinet's number (C(settings.defaultVatTag)) - V(1102) 20%, V(1103) 10%,
            V(1104) 0%, V(1105) no VAT, V(1106) 20/120, V(1107) 10/110, V(1109) 5%, V(1110) 7%, V(1111) 5/105,
            V(1112) 7/107, V(1113) 22%, V(1114) 22/122. Prefer O(points[].vat).
        type: int
        choices: [1102, 1103, 1104, 1105, 1106, 1107, 1109, 1110, 1111, 1112, 1113, 1114]
      fiscal_service_enabled:
        description:
          - Whether the point prints documents of an online store (C(settings.fiscalServiceEnabled)).
        type: bool
  points_file:
    description:
      - A YAML or JSON file (C(.json) is read as JSON) with the desired retail points, read by the plugin itself
        instead of through Ansible variables. Its content is the list that O(points) would hold, or a mapping whose
        C(modulkassa_points) key holds it (so a C(group_vars) file can be moved as it is).
      - The entries take the keys of O(points) and are validated the same way; errors name them
        C(points_file[3].inn).
      - For chains of thousands of points. Ansible keeps every variable's value with its origin, about 12 KB of
        memory per point in the controller and again in the worker; from a file the plugin reads plain data
        (10,000 points - under 200 MB peak instead of about 300 MB from C(group_vars)).
      - A relative path is relative to the playbook's directory. Mutually exclusive with O(points).
    type: path
  purge:
    description:
      - Delete the account's points that O(points) (or O(points_file)) does not declare.
      - Never deleted, but kept and reported (RV(results[].action=keep) with RV(results[].reason)) - a point active
        on a register (the cabinet's C(kktStatus) is not C(KKT_NOT_PLUGGED)), a point whose tax-office registration
        is under way (C(registrationRequestStatus) other than C(NOT_EXISTS), C(DRAFT), C(ERROR), C(REGISTERED) - the
        cabinet would refuse the delete), and a point matching O(purge_exclude).
      - Limited by O(purge_max).
    type: bool
    default: false
  purge_exclude:
    description:
      - Points that O(purge) never deletes - those other integrations own (1C, an online store's fiscal service).
      - Each entry is a point id (compared in lower case) or a name pattern - a shell-style glob matched against
        the whole name (V(*) any text, V(?) one character, V([...]) one of a set, V([[]) a literal V([)). Names
        and patterns are compared as the collection compares names - ignoring letter case, Unicode compatibility
        forms and runs of whitespace - so V(1C *) keeps C(1c  Shop 2). An entry equal to a name matches it even
        when the name holds V([) or V(*). The same matcher as the export's name filter.
      - Declared points are converged whatever this says; only the purge looks at it.
      - A single string is one entry; it is not split at commas, which point names often hold.
    type: list
    elements: str
    default: []
  purge_max:
    description:
      - The most points one purge may delete. When the plan would delete more, the task fails before any write
        (no create or update either), naming the count and some of the points.
      - The default, V(10), is above what a pull request that closes a shop or two retires, and far below a
        chain's account - so a truncated data file or a lost variable file cannot empty it. Raise it for a run
        that retires more on purpose (C(-e modulkassa_points_purge_max=40) with the C(retail_points) role), or
        retire such points with O(points[].state=absent), which is not counted.
      - V(-1) - no limit. V(0) - a purge may delete nothing (it fails if it would, and still reports kept points).
      - Whatever the limit, a purge while the list declares no point as present is refused unless this is V(-1)
        (emptying the account is said explicitly).
    type: int
    default: 10
  concurrency:
    description:
      - How many writes run at the same time (1 to 64), through one pooled connection set.
      - A cabinet answer of HTTP 429 (or 503) with C(Retry-After) pauses all of them until it has passed, and the
        request that got it retries after at least that long; every retry is reported as a warning.
      - The default suits a cabinet 20 ms or more away (about 6 to 8 times faster than one write at a time on a
        first converge of 1,000 points, see the collection's C(docs/scale.md)); lower it for a rate-limited account.
    type: int
    default: 16
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.saved_plan
  - modulkassa.pos.attributes
attributes:
  check_mode:
    details: One list request; no write. The results hold the plan.
  diff_mode:
    details: One diff for all changed points, keyed by point name, with before and after of the managed attributes.
seealso:
  - module: modulkassa.pos.retail_point
  - module: modulkassa.pos.retail_point_info
"""

EXAMPLES = r"""
- name: The chain's points are exactly these
  modulkassa.pos.retail_points:
    cabinet_url: https://my.modulkassa.ru
    cabinet_login: ops@example.com
    cabinet_password: "{{ vault_modulkassa_password }}"
    purge: true
    points:
      - name: Moscow Tverskaya 1
        address: Moscow, Tverskaya st. 1
        inn: "7707083893"
        kpp: "773601001"
        tax_mode: COMMON
        vat: VAT_22
      - name: Kazan Baumana 5
        address: Kazan, Baumana st. 5
        phone: "+7 843 123-45-67"
        inn: "500100732259"
        tax_mode: PATENT
        vat: NO_VAT
      - name: Tula Lenina 2
        inn: "7707083893"
        kpp: "771001001"
        tax_mode: SIMPLIFIED
        vat: VAT_5
  register: converge

- name: Report what was created
  ansible.builtin.debug:
    msg: "{{ converge.results | selectattr('action', 'equalto', 'create') | map(attribute='name') | list }}"

- name: Thousands of points - read them from a data file, not from Ansible variables
  modulkassa.pos.retail_points:
    points_file: "{{ inventory_dir }}/data/retail_points.yml"   # a list, or {modulkassa_points: [...]}
    concurrency: 16

- name: The list is the whole chain, except the points the 1C integration and the web shop own
  modulkassa.pos.retail_points:
    points_file: "{{ inventory_dir }}/data/retail_points.yml"
    purge: true
    purge_exclude:
      - "1C *"                                   # a name pattern (compared ignoring case and spacing)
      - 3f2b8c1e-7a4d-4e0b-9c55-2a6f1d8e4b90    # a point id
    purge_max: 25                                # this change retires a region of 20 points
  register: converge

- name: Points the purge kept, and why
  ansible.builtin.debug:
    msg: "{{ converge.results | selectattr('action', 'equalto', 'keep') | map(attribute='reason') | list }}"

- name: Remove one point, leave the rest alone
  modulkassa.pos.retail_points:
    points:
      - name: Tver Sovetskaya 3
        state: absent
"""

RETURN = r"""
plan:
  description:
    - With O(record_plan), each point's planned action, managed fields before and after, and fingerprint as read
      (C(points)); after an apply also the state each was left in (C(applied)) (the managed state, never an activation
      code), with the account's login and the
      collection version. C(tools/modulkassa-plan) writes them to the saved plan or the applied record.
  returned: when O(record_plan=true)
  type: dict
  sample: {login: ops@example.com, collection_version: 0.1.0}
stale:
  description: With O(saved_plan), the planned objects that moved since the plan was made, and how.
  returned: when a saved plan is refused
  type: list
  elements: dict
  sample:
    - id: 3f2b8c1e-7a4d-4e0b-9c55-2a6f1d8e4b90
      name: Shop 7
      how: changed in the cabinet after the plan was made (address)
summary:
  description: How many points fall in each action.
  returned: success, and when a purge is refused
  type: dict
  sample: {create: 2, update: 1, delete: 0, unchanged: 997, absent: 0, keep: 3}
results:
  description:
    - One entry per declared point (in order), then one per point the purge deletes or keeps.
    - When a purge is refused (O(purge_max)), the refused plan, every write V(not_attempted).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the point.
      type: str
    id:
      description: Id of the point.
      type: str
    action:
      description:
        - What was (or would be) done. V(keep) - a point the purge would delete, kept by a guard (see
          RV(results[].reason)); nothing is written to it.
      type: str
      choices: [create, update, delete, unchanged, absent, keep]
    changed_fields:
      description: Managed attributes that differ(ed).
      type: list
      elements: str
    changes:
      description:
        - Each managed attribute that differs (or differed), with its canonical value in the cabinet (V(before))
          and the declared one (V(after)); returned with and without C(--diff). A create or delete adds
          V(state) (V(absent)/V(present)); a create shows V(null) as every V(before). Empty when unchanged.
        - A delete of a point active on a register adds V(register) (the register's serial before, V(null) after).
        - A VAT rate given by name (O(points[].vat)) is compared and shown as V(vat_tag), the cabinet's number.
      type: dict
      sample: {phone: {before: "4951234501", after: "4951234599"}}
    outcome:
      description:
        - V(done), V(failed), V(predicted) (check mode) or V(unchanged). V(not_attempted) means the write was not
          attempted, because the run stopped first (its controller, C(ansible-playbook), was gone).
      type: str
    activation:
      description:
        - The point's activation status (V(active), V(kkt_status), V(register_serial), V(code_pending)).
        - For a delete, as the cabinet showed it before.
      type: dict
      returned: when the point exists (or would, or did before a delete)
    health:
      description:
        - This point's register health, in the shape of RV(modulkassa.pos.retail_point_info#module:points[].health)
          (C(kkt_status), C(registration_status), C(severity), C(trouble), C(findings)).
      type: dict
      returned: when the point exists (or would) and is not deleted
    guards:
      description: The guards that keep the point from the purge - V(active), V(registration), V(purge_exclude).
      type: list
      elements: str
      returned: when RV(results[].action) is V(keep)
      sample: [active]
    reason:
      description: Why the purge keeps the point, one sentence per guard.
      type: str
      returned: when RV(results[].action) is V(keep)
      sample: "active on register SN-0001234 (kktStatus REGISTERED)"
    error:
      description: Why the write failed.
      type: str
      returned: when the write failed
    notices:
      description:
        - What the user should know about this point that is neither a change nor a failure - a tax mode the
          cabinet holds that was abolished, an explicit delete that takes the point from its register, or one the
          cabinet will refuse because the point's registration is under way. Also given as task warnings and in the
          drift report.
      type: list
      elements: str
      returned: when there is something to say
      sample: ["its tax mode in the cabinet is ENVD. ЕНВД (ENVD) was abolished on 1 January 2021 ..."]
"""
