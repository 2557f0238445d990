# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: every task result and the final stats, as JSON lines, for tests/integration.

Not part of the collection (tests/integration is build-ignored). The harness enables it with
ANSIBLE_CALLBACK_PLUGINS=<this dir> and ANSIBLE_CALLBACKS_ENABLED=test_results, and names the output
file in MK_TEST_RESULTS. Tests assert on these records instead of parsing the human stdout, which
changes between ansible-core versions and with verbosity. The result objects differ between cores too (public
``task``/``host``/``result`` from 2.19, private ``_task``/``_host``/``_result`` before): they are read through the
collection's own ``unpack_task_result`` (plugins/plugin_utils/_task_result.py, loaded by path), the one the drift
report uses, so both work on every supported core.

One JSON object per line, appended and flushed as events happen (a crashed run keeps what it did):
  {"type": "task", "play", "host", "task", "action", "status", "result"}
      status: ok | changed | failed | skipped | unreachable; "result" is the full result dict as
      callbacks receive it (no_log results are already censored by ansible-core), with the
      failed/skipped/unreachable flag set as a ``register:``ed variable would show it (ansible-core
      2.19+ leaves it out of what callbacks get); "ignored": true for a failure under ignore_errors.
  {"type": "stats", "stats": {host: {ok, changed, failed, unreachable, skipped, rescued, ignored}}}
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: test_results
type: aggregate
short_description: write task results and stats as JSON lines for the test harness
description:
  - Test-only. Appends one JSON object per task result and one for the final stats to the file named
    by the E(MK_TEST_RESULTS) environment variable.
requirements:
  - E(MK_TEST_RESULTS) set to a writable path
"""

import json
import os
from collections.abc import Mapping

import importlib.util

from ansible.plugins.callback import CallbackBase


def _load_unpack_task_result():
    """The collection's accessor, loaded from its file: this callback also runs where the collection is not on the
    collections path (Molecule's create step runs before the scenario links it)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plugins", "plugin_utils",
                        "_task_result.py")
    spec = importlib.util.spec_from_file_location("_modulkassa_pos_task_result", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.unpack_task_result


unpack_task_result = _load_unpack_task_result()


def _jsonable(value):
    """json.dumps fallback for the odd non-native value (sets, bytes, custom objects)."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("MK_TEST_RESULTS")
        self._play = None

    def _write(self, record):
        if not self._path:
            return
        line = json.dumps(record, default=_jsonable, ensure_ascii=False, sort_keys=True)
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def _task(self, result, status, ignored=False):
        task, host, data = unpack_task_result(result)
        data = dict(data)
        if status in ("failed", "skipped", "unreachable"):
            data.setdefault(status, True)
        self._write({
            "type": "task",
            "play": self._play,
            "host": host.get_name(),
            "task": task.get_name(),
            # resolved_action is the FQCN the task really ran (e.g. ansible.builtin.uri for "uri")
            "action": getattr(task, "resolved_action", None) or task.action,
            "status": status,
            "ignored": bool(ignored),
            "result": data,
        })

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name()

    def v2_runner_on_ok(self, result):
        self._task(result, "changed" if unpack_task_result(result)[2].get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task(result, "failed", ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._task(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._task(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = {}
        for host in hosts:
            s = stats.summarize(host)
            summary[host] = {
                "ok": s["ok"],
                "changed": s["changed"],
                "failed": s["failures"],
                "unreachable": s["unreachable"],
                "skipped": s["skipped"],
                "rescued": s["rescued"],
                "ignored": s["ignored"],
            }
        self._write({"type": "stats", "stats": summary})
