# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Talk to the register agent over the host's connection: one raw exec per call, no module shipped.

The agent's contract (docs/register-agent.md): ``status``, ``activate`` (code on stdin), ``deactivate
--retail-point ID``; JSON on stdout; distinct exit codes. Secrets given to ``run_agent`` are redacted from
everything it returns or raises, and the code only ever travels on stdin (argv shows in ``ps``).
"""

from __future__ import annotations

import json
import shlex

from ansible_collections.modulkassa.pos.plugins.module_utils._binding_apply import AgentError
from ansible_collections.modulkassa.pos.plugins.module_utils._redaction import Redactor

DEFAULT_AGENT_PATH = "modulkassa-agent"

AGENT_EXIT_CODES = {
    2: "usage",
    3: "activation-code-invalid",
    4: "activation-code-expired",
    5: "activation-code-used",
    6: "activation-code-attempts-exceeded",
    7: "cabinet-unreachable",
    8: "not-bound",
}
EXPLANATIONS = {
    "activation-code-invalid": "the cabinet does not know the code (a typo, or a newer code replaced it)",
    "activation-code-expired": "the code expired before the register redeemed it",
    "activation-code-used": "the code was already redeemed",
    "activation-code-attempts-exceeded": "too many wrong codes from this register; the cabinet locked it out for a while",
    "cabinet-unreachable": "the register cannot reach the cabinet (network, DNS, TLS)",
    "not-bound": "the register does not hold that point",
}


def _last_json_object(stdout):
    """The agent's answer: the last stdout line that is a JSON object.

    The agent prints exactly one line, but a login shell may print before it (a noisy ``~/.bashrc``), and a
    terminal turns line ends into CR LF; neither may turn a good answer into a failure.
    """
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if isinstance(answer, dict):
                return answer
    return None


def _uses_become(action):
    """Whether the task runs with become (the connection then carries a become plugin)."""
    # pylint: disable-next=protected-access
    return getattr(action._connection, "become", None) is not None


def resolve_agent_path(action, agent_path, task_vars):
    """The agent to run: the task's ``agent_path``, else the host's ``modulkassa_agent_path``, else the PATH's.

    Only the host variable is templated: ``task_vars`` hold it raw, while Ansible has already templated the task's
    option. Templating that again would evaluate, on ansible-core before 2.19 (where the plugins get the option as a
    plain string), a template that arrived as data (a registered result, a fact): code run on the controller.
    """
    return task_or_host_value(action, agent_path, task_vars, "modulkassa_agent_path") or DEFAULT_AGENT_PATH


def task_or_host_value(action, value, task_vars, host_variable):
    """The task's option when set, else the host variable templated (only it: see ``resolve_agent_path``)."""
    if value:
        return value
    host_value = task_vars.get(host_variable)
    if host_value:
        # pylint: disable-next=protected-access
        return action._templar.template(host_value)
    return None


def run_agent(action, agent_path, arguments, stdin=None, secrets=()):
    """Run one agent command on the task's host; returns its JSON answer or raises ``AgentError``.

    A connection failure is not caught: Ansible reports the host as unreachable, as for any task.
    """
    command = " ".join(shlex.quote(part) for part in [agent_path] + list(arguments))
    in_data = stdin.encode("utf-8") if stdin is not None else None
    # ``sudoable`` only when become is on: the ssh connection gives a sudoable command without input a
    # terminal (-tt), which costs a pty per exec and mixes the login shell's stderr into the answer.
    # pylint: disable-next=protected-access
    outcome = action._low_level_execute_command(command, sudoable=_uses_become(action), in_data=in_data)
    redactor = Redactor(secrets)
    stdout = redactor.redact(outcome.get("stdout", "") or "")
    stderr = redactor.redact(outcome.get("stderr", "") or "")
    rc = outcome.get("rc", 1)
    answer = _last_json_object(stdout)
    if rc == 0 and isinstance(answer, dict):
        return answer
    code = AGENT_EXIT_CODES.get(rc, "agent-error")
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        code = answer["error"]
    detail = answer.get("message") if isinstance(answer, dict) else None
    if rc == 127:
        detail = "agent not found at %s (set agent_path or the modulkassa_agent_path host variable)" % agent_path
    elif not detail:
        detail = (stderr.strip() or stdout.strip() or "no output")[-300:]
    explanation = EXPLANATIONS.get(code)
    message = "register agent '%s' failed (exit %s, %s): %s" % (" ".join(arguments[:1]), rc, code, detail)
    if explanation:
        message += " - " + explanation
    raise AgentError(message, code=code, exit_code=rc)


def agent_status(action, agent_path):
    status = run_agent(action, agent_path, ["status"])
    if not isinstance(status.get("serial"), str) or not isinstance(status.get("bindings", []), list):
        raise AgentError("register agent status is not the documented JSON (serial, bindings)", code="agent-protocol")
    status.setdefault("bindings", [])
    return status


class RegisterAgent(object):
    """The agent interface the binding apply (module_utils/_binding_apply.py) talks to, over the task's connection:
    ``status()``, ``activate(code)`` (the code on stdin, redacted from everything returned or raised) and
    ``deactivate(point_id)``."""

    def __init__(self, action, agent_path):
        self.action = action
        self.agent_path = agent_path

    def status(self):
        return agent_status(self.action, self.agent_path)

    def activate(self, code):
        return run_agent(self.action, self.agent_path, ["activate"], stdin=code, secrets=[code])

    def deactivate(self, point_id):
        return run_agent(self.action, self.agent_path, ["deactivate", "--retail-point", point_id])
