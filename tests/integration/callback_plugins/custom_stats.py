# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: the run's custom stats (``set_stats`` data) as AWX would keep them, for tests/integration.

AWX (ansible-runner's awx_display callback) takes a job's artifacts from ``stats.custom`` in
``v2_playbook_on_stats``; this callback writes the same data, as JSON, to the file named by MK_TEST_CUSTOM_STATS:
``{"_run": {...global set_stats data...}, "<host>": {...per_host data...}}``. Enabled by a test with
ANSIBLE_CALLBACKS_ENABLED=test_results,custom_stats (the harness's ANSIBLE_CALLBACK_PLUGINS already holds this
directory).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: custom_stats
type: aggregate
short_description: write the run's set_stats data as JSON for the test harness
description:
  - Test-only. Writes C(stats.custom) at the end of the playbook to the file named by E(MK_TEST_CUSTOM_STATS).
requirements:
  - E(MK_TEST_CUSTOM_STATS) set to a writable path
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "custom_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("MK_TEST_CUSTOM_STATS")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(stats.custom, out, ensure_ascii=False, default=str)
