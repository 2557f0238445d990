# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_agent: how the agent's one exec is made and how its answer is read (a stub action, no SSH)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.modulkassa.pos.plugins.plugin_utils._register_agent import (
    DEFAULT_AGENT_PATH,
    AgentError,
    agent_status,
    resolve_agent_path,
    run_agent,
)

STATUS = {"serial": "SN-REG01", "model": "MSPOS-K", "appVersion": "1.0.0", "synced": True, "bindings": []}


class StubConnection(object):
    def __init__(self, become=None):
        self.become = become


class StubAction(object):
    """Records each exec and answers with the given (rc, stdout, stderr)."""

    def __init__(self, rc=0, stdout="", stderr="", become=None):
        self._connection = StubConnection(become)
        self.answer = {"rc": rc, "stdout": stdout, "stderr": stderr}
        self.calls = []

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        self.calls.append({"cmd": cmd, "sudoable": sudoable, "in_data": in_data})
        return dict(self.answer)


def test_a_noisy_login_shell_before_the_answer_is_ignored():
    # What a pty delivers when root's ~/.bashrc complains: CR LF line ends and the shell's text first.
    noisy = "pyenv: cannot rehash: /root/.pyenv/shims isn't writable\r\n%s\r\n" % json.dumps(STATUS)
    action = StubAction(stdout=noisy)
    assert agent_status(action, "/opt/agent") == STATUS


def test_an_error_answer_after_noise_keeps_its_code():
    answer = {"error": "activation-code-expired", "message": "the code expired"}
    action = StubAction(rc=4, stdout="some banner\n" + json.dumps(answer) + "\n")
    with pytest.raises(AgentError) as caught:
        run_agent(action, "/opt/agent", ["activate"], stdin="12345678", secrets=["12345678"])
    assert caught.value.code == "activation-code-expired"
    assert "the code expired" in str(caught.value)


def test_without_become_no_terminal_is_requested():
    action = StubAction(stdout=json.dumps(STATUS))
    agent_status(action, "/opt/agent")
    # sudoable=False: the ssh connection then runs the command without -tt (no pty, stderr kept apart).
    assert action.calls == [{"cmd": "/opt/agent status", "sudoable": False, "in_data": None}]


def test_with_become_the_command_stays_sudoable():
    action = StubAction(stdout=json.dumps(STATUS), become=object())
    agent_status(action, "/opt/agent")
    assert action.calls[0]["sudoable"] is True


def test_the_code_travels_on_stdin_and_is_redacted_from_errors():
    action = StubAction(rc=1, stdout="", stderr="could not redeem 12345678")
    with pytest.raises(AgentError) as caught:
        run_agent(action, "/opt/agent", ["activate"], stdin="12345678", secrets=["12345678"])
    assert action.calls[0]["in_data"] == b"12345678"
    assert "12345678" not in action.calls[0]["cmd"]
    assert "12345678" not in str(caught.value)


class RecordingTemplar(object):
    def __init__(self):
        self.templated = []

    def template(self, value):
        self.templated.append(value)
        return "rendered:%s" % value


def test_the_agent_path_option_is_not_templated_twice():
    """Ansible templated the option already; before 2.19 the plugin gets it as a plain string (its "unsafe" mark is
    gone), so templating it again would run a template that came in as data, e.g. from a registered result."""
    action = StubAction()
    action._templar = RecordingTemplar()
    assert resolve_agent_path(action, "{{ lookup('pipe', 'id') }}", {}) == "{{ lookup('pipe', 'id') }}"
    assert action._templar.templated == []


def test_the_host_variable_is_templated_and_the_default_is_the_path():
    action = StubAction()
    action._templar = RecordingTemplar()
    assert resolve_agent_path(action, None, {"modulkassa_agent_path": "{{ base }}/agent"}) == "rendered:{{ base }}/agent"
    assert resolve_agent_path(action, None, {}) == DEFAULT_AGENT_PATH
