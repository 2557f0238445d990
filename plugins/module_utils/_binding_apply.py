# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apply a ``BindingPlan``: the binding writes of modulkassa.pos.register, beside the points' apply.

A bind issues a fresh code in the cabinet, hands it to the register's agent on stdin, and waits until the cabinet
shows the point on that register; an unbind has the agent deactivate the point and waits until the cabinet shows it
released. Whatever stops a bind (the agent's refusal, a lost connection, a timeout, any error), the cabinet decides
what happened (decision D19), and any code the bind drew that is still live is taken back.

The register is reached through an **agent** object with three methods (plugin_utils/_register_agent.py
implements them over the task's connection):

- ``status()`` -> ``{"serial", "bindings": [...]}``
- ``activate(code)`` -> the agent's answer (its new status); the code goes on stdin, never in argv
- ``deactivate(point_id)`` -> the agent's answer

Each raises ``AgentError`` for the agent's refusal; a lost connection raises whatever the connection raises (the
caller names those types in ``connection_errors``). The ``controller`` (``check(what)``, ``gone()``) stops new
changes once the run was cancelled.
"""

from __future__ import annotations

import traceback

from ansible_collections.modulkassa.pos.plugins.module_utils._activation_codes import issue_code, withdraw_code
from ansible_collections.modulkassa.pos.plugins.module_utils._binding_planner import (
    DONE,
    FAILED,
    NOT_ATTEMPTED,
    UNBIND,
    holder_of,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetError, CabinetNotFound
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import PlanError
from ansible_collections.modulkassa.pos.plugins.module_utils._polling import poll

# A refused fresh code is retried once with a new one: expiry or a concurrent re-issue can refuse it, and a
# register whose own retries met a passing cabinet outage (5xx, 429, dropped answers) gets one more round.
RETRYABLE_AGENT_CODES = ("activation-code-invalid", "activation-code-expired", "activation-code-used",
                         "cabinet-unreachable")
# How long a refused code waits for a concurrent run's newer code to be redeemed (capped by wait_timeout); an
# activation takes about a second, so this only runs out when the other run died holding its code.
CONCURRENT_ACTIVATION_WAIT = 15.0
CONCURRENT_ACTIVATION_POLL = 0.5


class AgentError(Exception):
    """The register agent refused or failed (``code``: the documented error name, e.g. ``not-bound``)."""

    def __init__(self, message, code="agent-error", exit_code=None):
        self.code = code
        self.exit_code = exit_code
        super(AgentError, self).__init__(message)


class BindingApply(object):
    """The writes of one ``BindingPlan``, in order, stopping at the first failure (``run``)."""

    def __init__(self, plan, client, agent, controller, wait_timeout, connection_errors=(), points_seen=None):
        self.plan = plan
        self.client = client
        self.agent = agent
        self.controller = controller
        self.timeout = wait_timeout
        self.connection_errors = tuple(connection_errors)
        self.points_seen = points_seen  # {id: point}: every point the cabinet answered with, the freshest kept

    def run(self):
        """Apply the plan's actions. Afterwards the plan says which were done, which one failed and the register's
        real bindings (its agent's word, or, when it cannot be asked, what was done). A task timeout or an
        interrupt is raised again once the cleanup has run (Ansible reports it)."""
        plan = self.plan
        stopped_by = None
        for index, step in enumerate(plan.planned):
            plan.current = index
            try:
                step.answer = self._unbind(step.action) if step.action.action == UNBIND else self._bind(step)
                step.outcome = DONE
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                # Whatever stopped it, _bind has let the cabinet decide and withdrawn its unredeemed code; a bind the
                # cabinet shows made stays done.
                if step.outcome != DONE:
                    step.outcome = FAILED
                step.error = self.client.redact(str(exc) or type(exc).__name__)
                stopped_by = exc
                break
        if stopped_by is not None and not isinstance(stopped_by, Exception):
            raise stopped_by
        connection_lost = isinstance(stopped_by, self.connection_errors) if self.connection_errors else False
        plan.bindings_after = None if connection_lost else self._bindings_after()
        if stopped_by is not None:
            plan.failure = self._failure(stopped_by, connection_lost)

    def _failure(self, stopped_by, connection_lost):
        plan = self.plan
        step = [s for s in plan.steps if s.error][0]
        done = ["%s %s" % (s.action.action, s.action.name) for s in plan.steps if s.outcome == DONE and s is not step]
        if step.outcome == FAILED:
            message = "%s of retail point %r on register %s failed: %s" % (
                step.action.action, step.action.name, plan.serial, step.error)
        else:  # made (the cabinet shows it), but what cut it off stops the run
            message = "register %s stopped after the %s of retail point %r (made: the cabinet shows it): %s" % (
                plan.serial, step.action.action, step.action.name, step.error)
        if done:
            message += "; done before it: %s" % ", ".join(done)
        not_attempted = [s for s in plan.planned if s.outcome == NOT_ATTEMPTED]
        if not_attempted:
            message += "; not attempted: %s" % ", ".join(
                "%s %s" % (s.action.action, s.action.name) for s in not_attempted)
        failure = {"message": message, "kind": "unreachable" if connection_lost else "failed",
                   "agent_error": stopped_by.code if isinstance(stopped_by, AgentError) else None, "exception": None}
        if not connection_lost and not isinstance(stopped_by, (AgentError, PlanError, CabinetError)):
            failure["exception"] = self.client.redact("".join(traceback.format_exception(
                type(stopped_by), stopped_by, stopped_by.__traceback__)))
        return failure

    def _bindings_after(self):
        """The register's bindings after the actions, from its agent; None when it cannot be asked.

        activate and deactivate answer with the new status: a status exec after them would cost one more SSH round
        trip per changed register. Only when the last answer is missing (a failure, a lost answer settled in the
        cabinet, not-bound) is the agent asked again."""
        attempted = [s for s in self.plan.steps if s.outcome != NOT_ATTEMPTED]
        last = attempted[-1] if attempted else None
        if last is not None and last.outcome == DONE and isinstance(last.answer, dict) \
                and isinstance(last.answer.get("bindings"), list):
            return last.answer["bindings"]
        try:
            return self.agent.status()["bindings"]
        except (AgentError,) + self.connection_errors:
            return None

    # -- the writes ----------------------------------------------------------------------------------------

    def _wait_in_cabinet(self, point_id, predicate, what):
        point, shown = poll(lambda: self.client.get_point(point_id), predicate, self.timeout,
                            check=lambda: self.controller.check("waiting for the cabinet to show %s" % what))
        if self.points_seen is not None and isinstance(point, dict) and point.get("id"):
            self.points_seen[point["id"]] = point  # the freshest word on its health too
        if not shown:
            raise PlanError("the cabinet did not show %s within %.0f s" % (what, self.timeout))
        return point

    def _settle_failed_activation(self, point_id, drawn, wait):
        """After a failed attempt, ask the cabinet.

        True: the point is on this register anyway (the redemption went through and only its answer was lost, or a
        concurrent run bound it). Otherwise any code this task drew that is still live is taken back, so no
        unredeemed code stays behind; a newer code that is not ours (another run is activating the point right now)
        is left alone and, for up to ``wait`` seconds, given the chance to finish instead of replacing it in turn,
        which could make both runs fail.
        """
        serial = self.plan.serial

        def fetch():
            try:
                return self.client.get_point(point_id)
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
            withdraw_code(self.client, point_id)
        return False

    def _bind(self, step):
        """Issue a code, have the agent redeem it, see the point on this register in the cabinet; returns the agent's
        answer (None when the cabinet settled a failed attempt as done). On any failure the cabinet decides (D19),
        then the error is raised: with ``step.outcome`` DONE when the cabinet shows the binding made."""
        action, serial = step.action, self.plan.serial
        drawn = set()  # every code this bind drew: whichever is still live after a failure is taken back
        for attempt in (1, 2):
            try:
                code, dummy = issue_code(self.client, action.id, drawn)
                self.controller.check("activation of retail point %r" % action.name)  # no change once it is gone
                answer = self.agent.activate(code)
                self._wait_in_cabinet(action.id, lambda p: holder_of(p) == serial,
                                      "retail point %r active on register %s" % (action.name, serial))
                return answer
            except BaseException as exc:  # pylint: disable=broad-exception-caught
                agent_refused = isinstance(exc, AgentError)
                try:
                    # Only an agent's refusal can mean a concurrent run is activating: worth waiting for.
                    bound = self._settle_failed_activation(
                        action.id, drawn, min(self.timeout, CONCURRENT_ACTIVATION_WAIT) if agent_refused else 0)
                except CabinetError as cleanup_error:
                    if isinstance(exc, Exception):
                        raise PlanError("%s; the cabinet could not be asked whether the code issued for it is still "
                                        "live (%s): the next run replaces it" % (self.client.redact(str(exc)),
                                                                                 cleanup_error))
                    raise exc
                if bound:
                    self.plan.warnings.append(
                        "register %s: %s, but the cabinet shows retail point %r on this register (the answer was "
                        "lost, or a concurrent run bound it): the binding is made" % (
                            serial, "the agent reported %s" % exc.code if agent_refused
                            else "the activation was cut off (%s)" % type(exc).__name__, action.name))
                    if agent_refused:
                        return None
                    step.outcome = DONE  # made, but the run cannot go on (the connection, the controller...)
                    raise
                if not agent_refused or attempt == 2 or exc.code not in RETRYABLE_AGENT_CODES:
                    raise
        return None  # not reached: the second attempt returns or raises

    def _unbind(self, action):
        """Returns the agent's answer (its new status), or None when the point was not bound there."""
        serial = self.plan.serial
        answer = None
        try:
            self.controller.check("release of retail point %r" % action.name)
            answer = self.agent.deactivate(action.id)
        except AgentError as exc:
            if exc.code != "not-bound":
                raise
        try:
            self._wait_in_cabinet(action.id, lambda p: holder_of(p) != serial,
                                  "retail point %r released by register %s" % (action.name, serial))
        except CabinetNotFound:
            pass  # the point was deleted meanwhile: it is held by nobody
        return answer
