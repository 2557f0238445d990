# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module is implemented entirely by the action plugin of the same name: it decides on the controller and
# runs only the register agent's commands on the host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: register
short_description: Bind a ModulKassa register (касса) to its retail points by redeeming activation codes
version_added: 0.1.0
description:
  - Runs against a register host, reached over SSH, that has the register agent (see the collection's
    C(docs/register-agent.md) for the agent's contract).
  - Reads the register's status with one exec of C(<agent> status), compares it with the cabinet, and stops there
    when every declared point is already held by this register (the cabinet's C(kkmInfo) names its serial).
  - Otherwise, per point to bind, it issues a fresh random numeric activation code in the cabinet (C(posLinkToken),
    what the cabinet's C(Активировать) button does), hands it to the agent's C(activate) command on stdin, and waits
    until the cabinet shows the point active on this register. A point held by another register moves here (the
    other register loses it, as the cabinet warns).
  - If a run dies between issuing and redeeming a code, the next run issues a new code, which replaces the old one,
    and completes the binding.
  - After any failed activation (the agent's refusal, a lost SSH connection, the task's C(timeout)
    keyword, any error) the cabinet decides. If it shows the point on this register, the activation went through and
    only the answer was lost, or a concurrent run bound it (a warning says so), and the binding is made. Otherwise every
    code the task issued for that point that is still live is withdrawn before the task ends, so no unredeemed code
    stays behind. If a newer code that is not ours replaced it, another run (a second pipeline) is activating the
    point; after an agent's refusal the task waits for it, up to 15 s, and leaves that code alone. A code refused as
    invalid, expired or used, or a register that could not reach the cabinet, gets one more try with a fresh code.
  - The actions run in order and stop at the first failure. The result tells what happened. RV(actions) marks each
    one V(done), V(failed) or V(not_attempted); C(changed) is true only if one was done; RV(changes) and the diff
    show the register's real bindings after the task (its agent's word, or, when the connection was lost, what it
    held changed by what was done). A connection lost in the middle makes the host unreachable, as Ansible reports
    any lost connection, with this result.
  - When the run's controller (C(ansible-playbook)) is gone (a cancelled CI job or AWX job; from ansible-core 2.19
    a kill of its process group does not reach the workers), the task stops before its next cabinet write, code or
    agent command; it only withdraws a code it issued and did not see redeemed. The next run converges the rest.
  - A slow binding prints a progress line every 30 seconds (environment variable C(MODULKASSA_PROGRESS_INTERVAL) on
    the controller, in seconds; V(0) turns it off), so that AWX and ansible-runner do not drop a silent job.
  - The cabinet is called from the controller only; the register's own device credentials are never used or read.
  - The activation code and the device credentials appear in no result, diff, log or error message.
author:
  - modulkassa.pos developers (@modulkassa-pos)
options:
  retail_points:
    description:
      - The points this register must serve (O(state=bound)) or release (O(state=unbound)), by name or by id.
        One register may serve several points.
      - With ids only, the cabinet is read point by point; with names, one list request is made. Roles that
        handle many registers pass ids so that no register costs a full list of the cabinet.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(bound) - the register holds every point in O(retail_points).
      - V(unbound) - the register holds none of them.
    type: str
    default: bound
    choices: [bound, unbound]
  exclusive:
    description:
      - With O(state=bound), also release every point the register holds that O(retail_points) does not list.
        With an empty O(retail_points), release all of them.
    type: bool
    default: false
  serial:
    description:
      - The serial number the register on this host must report (its agent's status), as the cabinet knows it.
      - If not set, the C(modulkassa_register_serial) host variable is used; with neither, any serial is accepted.
      - When the agent reports another serial, the task fails before it reads the cabinet or changes anything, since
        the host's address then reaches another register than the data means, and binding it would give that
        register the points.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for the cabinet to show a binding (or a release) after the agent reported it done.
    type: float
    default: 60
extends_documentation_fragment:
  - modulkassa.pos.cabinet
  - modulkassa.pos.register_agent
  - modulkassa.pos.saved_plan
  - modulkassa.pos.attributes
attributes:
  check_mode:
    details:
      - The register's status is read and the cabinet is read; no code is issued and nothing runs on the register
        that changes it.
      - A declared point that does not exist yet (an earlier task of the check run would create it) gives a warning
        and is reported as a binding that would be made.
  diff_mode:
    details: The register's serial and the names of the points it holds, before and after.
seealso:
  - module: modulkassa.pos.register_info
  - module: modulkassa.pos.retail_point
"""

EXAMPLES = r"""
- name: Bind the registers to their points
  hosts: registers
  gather_facts: false
  module_defaults:
    group/modulkassa.pos.cabinet:
      cabinet_url: "{{ modulkassa_url }}"
      cabinet_login: "{{ modulkassa_login }}"
      cabinet_password: "{{ modulkassa_password }}"
  tasks:
    - name: This register serves its two points and nothing else
      modulkassa.pos.register:
        retail_points:
          - Moscow Tverskaya 1
          - Moscow Tverskaya 1 (cafe)
        exclusive: true

    - name: Release a point that moved to another register
      modulkassa.pos.register:
        retail_points: [Kazan Baumana 5]
        state: unbound
"""

RETURN = r"""
plan:
  description:
    - With O(record_plan), the register's planned actions, bindings before and after, and fingerprint as read
      (C(register)) (the managed state, never an activation code), with the account's login and the
      collection version. C(tools/modulkassa-plan) writes them to the saved plan or the applied record.
  returned: when O(record_plan=true)
  type: dict
  sample: {login: ops@example.com, collection_version: 0.1.0}
stale:
  description: With O(saved_plan), this register (by serial) and how it moved since the plan; the task is refused.
  returned: when a saved plan is refused
  type: list
  elements: dict
  sample: [{id: SN-REG07, how: "it held ['Shop 5'] when planned, it holds [] now"}]
serial:
  description: Serial number of the register, as its agent reports it.
  returned: success
  type: str
  sample: SN-REG01
actions:
  description: What was done (or, in check mode, would be done), per point, in order.
  returned: success, and when an action failed
  type: list
  elements: dict
  contains:
    outcome:
      description:
        - V(done), V(failed) (the action that stopped the task), V(not_attempted) (planned after the failed one)
          or V(predicted) (check mode).
      type: str
      choices: [done, failed, not_attempted, predicted]
    error:
      description: Why the action failed (no secret in it).
      type: str
      returned: when the action failed
    action:
      description: V(bind), V(rebind) (the point moves from another register) or V(unbind).
      type: str
    id:
      description: Id of the point (null in check mode for a point that does not exist yet).
      type: str
    retail_point:
      description: Name of the point.
      type: str
    previous_register:
      description: Serial of the register that held the point before, if any.
      type: str
changes:
  description:
    - When there are actions, V(retail_points) with the sorted point names the register held before the task
      (V(before)) and holds after it (V(after)), or would in check mode; returned with and without C(--diff). After
      a failure V(after) is the register's real bindings (equal to V(before) when nothing was done). Empty when there
      is nothing to do.
  returned: success, and when an action failed
  type: dict
  sample: {retail_points: {before: [Moscow Tverskaya 1], after: [Moscow Tverskaya 1, Kazan Baumana 5]}}
bindings:
  description: The register's bindings after the task, as its agent reports them.
  returned: success, and after a failure when the agent could still be asked
  type: list
  elements: dict
  sample: [{retailPointId: 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a, name: Moscow Tverskaya 1, since: "2026-11-24T08:00:00Z"}]
agent_error:
  description: The agent's error code when it failed (for example V(activation-code-expired), V(cabinet-unreachable)).
  returned: when the agent failed
  type: str
health:
  description:
    - The health of the points this register holds or declares, as the cabinet returned them to this task (no request
      of its own; after a binding, the cabinet's answer to the confirming read), judged by the collection's health
      table (C(docs/gitops.md), "Register health"). A point held by another register tells about
      that register, so RV(health.severity) counts only the points this register holds.
  returned: when the register's status and its points were read
  type: dict
  contains:
    severity:
      description: The worst severity of the points this register holds (V(ok), V(info), V(warning), V(critical)).
      type: str
    trouble:
      description: Whether RV(health.severity) is V(warning) or V(critical).
      type: bool
    points:
      description:
        - Each point, sorted by name, with C(id), C(name), C(register_serial) (the register the cabinet says holds
          it, or V(null)) and its health - C(kkt_status), C(registration_status), C(severity), C(trouble) and
          C(findings) (each status that is not V(ok) with C(field), C(state), C(severity), C(known), C(label) and
          C(action), as M(modulkassa.pos.retail_point_info) returns them).
      type: list
      elements: dict
      sample: [{id: 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a, name: Moscow Tverskaya 1, register_serial: SN-REG01,
                kkt_status: REGISTERED, registration_status: NOT_EXISTS, severity: ok, trouble: false, findings: []}]
"""
