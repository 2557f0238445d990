# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test and benchmark callback: the run's stats as AWX keeps them, as one JSON file.

AWX (ansible-runner's awx_display callback) takes a job's host summary (the recap) and its artifacts (the custom
stats, ``set_stats`` data) from ``stats`` in ``v2_playbook_on_stats``; this callback writes the same two, to the file
named by MK_RUN_STATS: ``{"recap": {"<host>": {"ok": ..., "changed": ..., "failures": ..., ...}}, "custom": {"_run":
{...global set_stats data...}, "<host>": {...per_host data...}}}``. It keeps nothing per task, so a benchmark run
costs nothing measurable with it, whatever the number of loop items.

Enabled by a test with ANSIBLE_CALLBACKS_ENABLED=test_results,run_stats (``harness.with_run_stats``; the harness's
ANSIBLE_CALLBACK_PLUGINS already holds this directory), and by the ansible.cfg bench/lib.py writes.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: run_stats
type: aggregate
short_description: write the run's recap and set_stats data as JSON for the tests and benchmarks
description:
  - Test and benchmark only. Writes the recap per host and C(stats.custom) at the end of the playbook to the file
    named by E(MK_RUN_STATS).
requirements:
  - E(MK_RUN_STATS) set to a writable path
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "run_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("MK_RUN_STATS")
        if path:
            record = {"recap": dict((host, stats.summarize(host)) for host in stats.processed), "custom": stats.custom}
            with open(path, "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False, default=str)
