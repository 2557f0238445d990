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

import traceback

from ansible.errors import AnsibleConnectionFailure

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import issue_code, withdraw_code
from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import with_cabinet_options
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    UNBIND,
    bindings_after,
    holder_of,
    index_points,
    plan_bindings,
    resolve_references,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetError, CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id
from ansible_collections.modulkassa.pos.plugins.module_utils._health import register_health
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import CabinetActionBase
from ansible_collections.modulkassa.pos.plugins.plugin_utils._diff import object_diff
from ansible_collections.modulkassa.pos.plugins.plugin_utils._progress import poll
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

# What became of each planned action (``actions[].outcome``).
DONE = "done"
FAILED = "failed"
NOT_ATTEMPTED = "not_attempted"
PREDICTED = "predicted"


def _binding_names(bindings):
    """The sorted names (ids where a name is missing) of an agent's bindings: what ``changes`` and the diff show."""
    return sorted(b.get("name") or b.get("retailPointId") for b in bindings if b.get("name") or b.get("retailPointId"))


class _Step(object):
    """One planned action and what became of it: done, failed, or not attempted (the run stopped before it)."""

    def __init__(self, action):
        self.action = action
        self.outcome = NOT_ATTEMPTED
        self.error = None
        self.answer = None  # the agent's answer (its new status) when it gave one

    def as_dict(self):
        entry = self.action.as_dict()
        entry["outcome"] = self.outcome
        if self.error:
            entry["error"] = self.error
        return entry


class ActionModule(CabinetActionBase):

    _requires_connection = True  # unlike the cabinet-only plugins, this one runs the agent on the host
    # This task's cabinet reads of the points, by id (for ``health``), and the ids of the points it declares.
    _points_read = None
    _declared_ids = frozenset()

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
        if references and all(is_point_id(ref) for ref in references):
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

        # Health comes from these reads (and the cabinet's answers while binding): no request of its own.
        self._points_read = dict(by_id)
        self._declared_ids = set(point["id"] for dummy, point in resolved if point is not None)
        actions = plan_bindings(serial, status["bindings"], resolved, args["state"], args["exclusive"])
        if self.check_mode or not actions:
            steps = [_Step(action) for action in actions]
            for step in steps:
                step.outcome = PREDICTED
            self._report(result, status["bindings"], steps, bindings_after(status["bindings"], actions))
            result["bindings"] = status["bindings"]
            return self._with_health(result, serial)
        return self._with_health(self._apply(client, agent_path, serial, status, actions, args, task_vars, result),
                                 serial)

    def _with_health(self, result, serial):
        """``health``: the points this register holds or declares, as the cabinet last returned them in this task."""
        points = [point for point in self._points_read.values()
                  if point["id"] in self._declared_ids or holder_of(point) == serial]
        result["health"] = register_health(serial, points)
        return result

    def _apply(self, client, agent_path, serial, status, actions, args, task_vars, result):
        """Run the actions in order; stop at the first failure. The result tells which were done, which one failed
        and the register's real bindings after (its agent's word, or, when it cannot be asked, what was done)."""
        steps = [_Step(action) for action in actions]
        current = {"step": 0}

        def describe(elapsed):
            step = steps[current["step"]]
            return "register %s: %s of retail point %r (action %d of %d, %.0f s)" % (
                serial, step.action.action, step.action.name, current["step"] + 1, len(steps), elapsed)

        stopped_by = None
        with self.progress(client, task_vars, describe):
            for index, step in enumerate(steps):
                current["step"] = index
                try:
                    if step.action.action == UNBIND:
                        step.answer = self._unbind(client, agent_path, step.action, serial, args["wait_timeout"])
                    else:
                        step.answer = self._bind(client, agent_path, step, serial, args["wait_timeout"],
                                                 result["warnings"])
                    step.outcome = DONE
                except BaseException as exc:  # pylint: disable=broad-exception-caught
                    # Whatever stopped it (the agent, the connection, the cabinet, a timeout), _bind has let the
                    # cabinet decide and withdrawn its unredeemed code; a bind the cabinet shows made stays done.
                    if step.outcome != DONE:
                        step.outcome = FAILED
                    step.error = client.redact(str(exc) or type(exc).__name__)
                    stopped_by = exc
                    break
        if stopped_by is not None and not isinstance(stopped_by, Exception):
            raise stopped_by  # a task timeout or an interrupt: Ansible reports it (the cleanup above has run)

        connection_lost = isinstance(stopped_by, AnsibleConnectionFailure)
        bindings = self._bindings_after(agent_path, steps, status, connection_lost)
        if bindings is None:
            # The register cannot be asked: its bindings are what it held, changed by what was done.
            after = bindings_after(status["bindings"], [s.action for s in steps if s.outcome == DONE])
        else:
            after = _binding_names(bindings)
            result["bindings"] = bindings
        self._report(result, status["bindings"], steps, after)
        if stopped_by is None:
            return result

        step = [s for s in steps if s.error][0]
        done = ["%s %s" % (s.action.action, s.action.name) for s in steps if s.outcome == DONE and s is not step]
        if step.outcome == FAILED:
            result["msg"] = "%s of retail point %r on register %s failed: %s" % (
                step.action.action, step.action.name, serial, step.error)
        else:  # made (the cabinet shows it), but what cut it off stops the run
            result["msg"] = "register %s stopped after the %s of retail point %r (made: the cabinet shows it): %s" % (
                serial, step.action.action, step.action.name, step.error)
        if done:
            result["msg"] += "; done before it: %s" % ", ".join(done)
        not_attempted = [s for s in steps if s.outcome == NOT_ATTEMPTED]
        if not_attempted:
            result["msg"] += "; not attempted: %s" % ", ".join(
                "%s %s" % (s.action.action, s.action.name) for s in not_attempted)
        if isinstance(stopped_by, AgentError):
            result["agent_error"] = stopped_by.code
        if connection_lost:
            result["unreachable"] = True  # as Ansible reports a lost connection, with what was done on top
        else:
            result["failed"] = True
            if not isinstance(stopped_by, (AgentError, PlanError, CabinetError)):
                result["exception"] = client.redact("".join(traceback.format_exception(
                    type(stopped_by), stopped_by, stopped_by.__traceback__)))
        return result

    def _bindings_after(self, agent_path, steps, status, connection_lost):
        """The register's bindings after the actions, from its agent; None when it cannot be asked."""
        if connection_lost:
            return None
        # activate and deactivate answer with the new status: a status exec after them would cost one more SSH
        # round trip per changed register. Only when the last answer is missing (a failure, a lost answer settled
        # in the cabinet, not-bound) is the agent asked again.
        attempted = [s for s in steps if s.outcome != NOT_ATTEMPTED]
        last = attempted[-1] if attempted else None
        if last is not None and last.outcome == DONE and isinstance(last.answer, dict) \
                and isinstance(last.answer.get("bindings"), list):
            return last.answer["bindings"]
        try:
            return agent_status(self, agent_path)["bindings"]
        except (AgentError, AnsibleConnectionFailure):
            return None

    @staticmethod
    def _report(result, before_bindings, steps, after):
        """``changed``, ``actions``, ``changes`` and the diff, from what was done (or predicted) and the state after."""
        before = _binding_names(before_bindings)
        result["actions"] = [s.as_dict() for s in steps]
        result["changed"] = any(s.outcome in (DONE, PREDICTED) for s in steps)
        # The diff's structured twin, present without --diff too (the drift report reads it). With actions it is
        # present even when nothing changed in the end (a failed bind): it shows the real state after.
        result["changes"] = {"retail_points": {"before": before, "after": after}} if steps else {}
        result["diff"] = object_diff("register %s" % result["serial"], {"retail_points": before},
                                     {"retail_points": after})

    def _agent_change(self, agent_path, arguments, what, stdin=None, secrets=()):
        """Run an agent command that changes the register; refused once the controller is gone."""
        self.controller.check(what)
        return run_agent(self, agent_path, arguments, stdin=stdin, secrets=secrets)

    def _wait_in_cabinet(self, client, point_id, predicate, timeout, what):
        point, shown = poll(lambda: client.get_point(point_id), predicate, timeout,
                            check=lambda: self.controller.check("waiting for the cabinet to show %s" % what))
        if self._points_read is not None and isinstance(point, dict) and point.get("id"):
            self._points_read[point["id"]] = point  # the freshest word on its health too
        if not shown:
            raise PlanError("the cabinet did not show %s within %.0f s" % (what, timeout))
        return point

    def _settle_failed_activation(self, client, point_id, drawn, serial, wait):
        """After a failed attempt (the agent's refusal, a lost connection, a timeout, any error), ask the cabinet.

        True: the point is on this register anyway (the redemption went through and only its answer was lost, or a
        concurrent run bound it). Otherwise any code this task drew that is still live is taken back, so no
        unredeemed code stays behind; a newer code that is not ours (another run is activating the point right now)
        is left alone and, for up to ``wait`` seconds, given the chance to finish instead of replacing it in turn,
        which could make both runs fail.
        """
        def fetch():
            try:
                return client.get_point(point_id)
            except CabinetNotFound:
                return None

        def settled(point):
            return (point is None or holder_of(point) == serial or not point.get("posLinkToken")
                    or point.get("posLinkToken") in drawn or self.controller.gone() is not None)

        point, dummy = poll(fetch, settled, wait, first_delay=CONCURRENT_ACTIVATION_POLL,
                            max_delay=CONCURRENT_ACTIVATION_POLL)
        if point is None:
            return False
        if holder_of(point) == serial:
            return True
        if point.get("posLinkToken") in drawn:
            withdraw_code(client, point_id)
        return False

    def _bind(self, client, agent_path, step, serial, timeout, warnings):
        """Issue a code, have the agent redeem it, see the point on this register in the cabinet; returns the agent's
        answer (None when the cabinet settled a failed attempt as done). On any failure the cabinet decides (D19),
        then the error is raised: with ``step.outcome`` DONE when the cabinet shows the binding made."""
        action = step.action
        drawn = set()  # every code this bind drew: whichever is still live after a failure is taken back
        for attempt in (1, 2):
            try:
                code, dummy = issue_code(client, action.id, drawn)
                answer = self._agent_change(agent_path, ["activate"], "activation of retail point %r" % action.name,
                                            stdin=code, secrets=[code])
                self._wait_in_cabinet(client, action.id, lambda p: holder_of(p) == serial, timeout,
                                      "retail point %r active on register %s" % (action.name, serial))
                return answer
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                agent_refused = isinstance(exc, AgentError)
                try:
                    # Only an agent's refusal can mean a concurrent run is activating: worth waiting for.
                    bound = self._settle_failed_activation(
                        client, action.id, drawn, serial,
                        min(timeout, CONCURRENT_ACTIVATION_WAIT) if agent_refused else 0)
                except CabinetError as cleanup_error:
                    if isinstance(exc, Exception):
                        raise PlanError("%s; the cabinet could not be asked whether the code issued for it is still "
                                        "live (%s): the next run replaces it" % (client.redact(str(exc)), cleanup_error))
                    raise exc
                if bound:
                    warnings.append("register %s: %s, but the cabinet shows retail point %r on this register (the "
                                    "answer was lost, or a concurrent run bound it): the binding is made" % (
                                        serial, "the agent reported %s" % exc.code if agent_refused
                                        else "the activation was cut off (%s)" % type(exc).__name__, action.name))
                    if agent_refused:
                        return None
                    step.outcome = DONE  # made, but the run cannot go on (the connection, the controller...)
                    raise
                if not agent_refused or attempt == 2 or exc.code not in RETRYABLE_AGENT_CODES:
                    raise
        return None  # not reached: the second attempt returns or raises

    def _unbind(self, client, agent_path, action, serial, timeout):
        """Returns the agent's answer (its new status), or None when the point was not bound there."""
        answer = None
        try:
            answer = self._agent_change(agent_path, ["deactivate", "--retail-point", action.id],
                                        "release of retail point %r" % action.name)
        except AgentError as exc:
            if exc.code != "not-bound":
                raise
        try:
            self._wait_in_cabinet(client, action.id, lambda p: holder_of(p) != serial, timeout,
                                  "retail point %r released by register %s" % (action.name, serial))
        except CabinetNotFound:
            pass  # the point was deleted meanwhile: it is held by nobody
        return answer
