# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""unpack_task_result: the callbacks read task results the same way on ansible-core 2.16 and the newest.

The real result objects are exercised by every integration test (the harness's callback uses it), on both cores.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.plugin_utils._task_result import unpack_task_result


class ResultBefore219(object):
    """The shape of ansible-core 2.16-2.18's TaskResult: private attributes only."""

    def __init__(self, host, task, result):
        self._host, self._task, self._result = host, task, result


class ResultFrom219(object):
    """The shape of 2.19+'s CallbackTaskResult: public properties; the private names are deprecated aliases."""

    def __init__(self, host, task, result):
        self.host, self.task, self.result = host, task, result

    @property
    def _result(self):
        raise AssertionError("the deprecated private name was read")

    _task = _host = _result


def test_both_shapes_give_task_host_and_result():
    for shape in (ResultBefore219, ResultFrom219):
        assert unpack_task_result(shape("reg01", "bind", {"changed": True})) == ("bind", "reg01", {"changed": True})
