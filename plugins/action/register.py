# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of modulkassa.pos.register: bind the task's host (a register) to its retail points.

Flow, as ansible-core's copy/template split it: read the register's status with one exec, decide on the
controller against the cabinet, and only then act: issue a fresh code in the cabinet, hand it to the agent
on stdin, confirm in the cabinet. The cabinet is called from the controller only.
"""

from __future__ import annotations

import time

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import issue_code
from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    UNBIND,
    bindings_after,
    holder_of,
    index_points,
    looks_like_id,
    plan_bindings,
    resolve_references,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import object_diff
from ansible_collections.modulkassa.pos.plugins.plugin_utils._register_agent import (
    AgentError,
    agent_status,
    resolve_agent_path,
    run_agent,
)

# A refused fresh code is retried once with a new one: expiry or a concurrent re-issue can refuse it, and a
# register whose own retries met a passing cabinet outage (5xx, 429, dropped answers) gets one more round.
RETRYABLE_AGENT_CODES = ("activation-code-invalid", "activation-code-expired", "activation-code-used",
                         "cabinet-unreachable")
# How long a refused code waits for a concurrent run's newer code to be redeemed (capped by wait_timeout); an
# activation takes about a second, so this only runs out when the other run died holding its code.
CONCURRENT_ACTIVATION_WAIT = 15.0
CONCURRENT_ACTIVATION_POLL = 0.5


class ActionModule(CabinetActionBase):

    _requires_connection = True  # unlike the cabinet-only plugins, this one runs the agent on the host

    argument_spec = with_cabinet_options({
        "retail_points": {"type": "list", "elements": "str", "default": []},
        "state": {"type": "str", "default": "bound", "choices": ["bound", "unbound"]},
        "exclusive": {"type": "bool", "default": False},
        "agent_path": {"type": "str"},
        "wait_timeout": {"type": "float", "default": 60.0},
    })

    def prepare(self, args, task_vars):
        references = [ref.strip() for ref in args["retail_points"]]
        for index, ref in enumerate(references):
            if not ref:
                raise PointInputError("retail_points[%d]" % index, "must not be empty")
        if len(set(references)) != len(references):
            raise PointInputError("retail_points", "lists the same point twice")
        if not references and not args["exclusive"]:
            raise PointInputError("retail_points", "is required unless exclusive=true (release every point)")
        if args["wait_timeout"] <= 0:
            raise PointInputError("wait_timeout", "must be positive")
        return {"references": references, "agent_path": resolve_agent_path(self, args["agent_path"], task_vars)}

    def _cabinet_points(self, client, references):
        """The declared points as the cabinet has them: by id (one GET each) or, if names are used, one list."""
        if references and all(looks_like_id(ref) for ref in references):
            points = []
            for ref in references:
                try:
                    points.append(client.get_point(ref))
                except CabinetNotFound:
                    pass
            return points
        return client.list_points() if references else []

    def execute(self, args, prepared, client, task_vars):
        agent_path = prepared["agent_path"]
        try:
            status = agent_status(self, agent_path)
        except AgentError as exc:
            return {"failed": True, "msg": str(exc), "agent_error": exc.code}
        serial = status["serial"]
        by_id, by_name = index_points(self._cabinet_points(client, prepared["references"]))
        try:
            resolved = resolve_references(prepared["references"], by_id, by_name)
        except ValueError as exc:
            raise PlanError(str(exc))
        result = {"changed": False, "serial": serial, "warnings": []}
        for reference, point in resolved:
            if point is None and not (self.check_mode and args["state"] == "bound"):
                if args["state"] == "unbound":
                    continue  # a point that does not exist is not bound anywhere
                raise PlanError("retail point %r does not exist in the cabinet; converge the points first" % reference)
            if point is None:
                result["warnings"].append("retail point %r does not exist in the cabinet; assuming an earlier task of this "
                                          "check run would create it" % reference)

        actions = plan_bindings(serial, status["bindings"], resolved, args["state"], args["exclusive"])
        before = sorted(b.get("name") or b.get("retailPointId") for b in status["bindings"])
        after = bindings_after(status["bindings"], actions)
        result["diff"] = object_diff("register %s" % serial, {"retail_points": before}, {"retail_points": after})
        # The diff's structured twin, present without --diff too (the drift report reads it).
        result["changes"] = {"retail_points": {"before": before, "after": after}} if actions else {}
        result["actions"] = [a.as_dict() for a in actions]
        result["changed"] = bool(actions)
        if self.check_mode or not actions:
            result["bindings"] = status["bindings"]
            return result

        done = []
        latest = None  # the agent's answer to the last action: its reconciled status, bindings included
        for action in actions:
            try:
                if action.action == UNBIND:
                    latest = self._unbind(client, agent_path, action, serial, args["wait_timeout"])
                else:
                    latest = self._bind(client, agent_path, action, serial, args["wait_timeout"], result["warnings"])
            except (AgentError, PlanError) as exc:
                latest = None
                result.update(failed=True, msg="%s of retail point %r on register %s failed: %s%s" % (
                    action.action, action.name, serial, exc,
                    "; done before it: %s" % ", ".join(done) if done else ""))
                if isinstance(exc, AgentError):
                    result["agent_error"] = exc.code
                break
            done.append("%s %s" % (action.action, action.name))
        # activate and deactivate answer with the new status: a status exec after them would cost one more SSH
        # round trip per changed register. Only when the last answer is missing (a failure, a lost answer
        # settled in the cabinet, not-bound) is the agent asked again.
        if latest is None or not isinstance(latest.get("bindings"), list):
            latest = agent_status(self, agent_path)
        result["bindings"] = latest["bindings"]
        return result

    def _wait_for(self, client, point_id, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        delay = 0.2
        while True:
            point = client.get_point(point_id)
            if predicate(point):
                return point
            if time.monotonic() >= deadline:
                raise PlanError("the cabinet did not show %s within %.0f s" % (what, timeout))
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)

    def _settle_failed_activation(self, client, point_id, code, serial, timeout):
        """After the agent reported a failure, ask the cabinet. True: the point is on this register anyway (the
        redemption went through and only its answer was lost, or a concurrent run bound it). Otherwise the code
        is taken back, unless a newer one already replaced it, so no unredeemed code stays live."""
        deadline = time.monotonic() + min(timeout, CONCURRENT_ACTIVATION_WAIT)
        while True:
            try:
                point = client.get_point(point_id)
            except CabinetNotFound:
                return False
            if holder_of(point) == serial:
                return True
            live_code = point.get("posLinkToken")
            if live_code == code:
                client.update_point(point_id, {"posLinkToken": None})
                return False
            if not live_code or time.monotonic() >= deadline:
                return False
            # A newer code replaced ours: another run (a second pipeline converging the same register) is
            # activating this point right now. Let it finish instead of replacing its code in turn, which could
            # make both runs fail.
            time.sleep(CONCURRENT_ACTIVATION_POLL)

    def _bind(self, client, agent_path, action, serial, timeout, warnings):
        """Returns the agent's answer (its new status), or None when the cabinet settled a failed attempt."""
        answer = None
        for attempt in (1, 2):
            code, dummy = issue_code(client, action.id)
            try:
                answer = run_agent(self, agent_path, ["activate"], stdin=code, secrets=[code])
                break
            except AgentError as exc:
                if self._settle_failed_activation(client, action.id, code, serial, timeout):
                    warnings.append("register %s: the agent reported %s, but the cabinet shows retail point %r on this "
                                    "register (the agent's answer was lost, or a concurrent run bound it): nothing left "
                                    "to do" % (serial, exc.code, action.name))
                    break
                if attempt == 2 or exc.code not in RETRYABLE_AGENT_CODES:
                    raise
        self._wait_for(client, action.id, lambda p: holder_of(p) == serial, timeout,
                       "retail point %r active on register %s" % (action.name, serial))
        return answer

    def _unbind(self, client, agent_path, action, serial, timeout):
        """Returns the agent's answer (its new status), or None when the point was not bound there."""
        answer = None
        try:
            answer = run_agent(self, agent_path, ["deactivate", "--retail-point", action.id])
        except AgentError as exc:
            if exc.code != "not-bound":
                raise
        try:
            self._wait_for(client, action.id, lambda p: holder_of(p) != serial, timeout,
                           "retail point %r released by register %s" % (action.name, serial))
        except CabinetNotFound:
            pass  # the point was deleted meanwhile: it is held by nobody
        return answer
