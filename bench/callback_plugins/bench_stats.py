# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: the run's per-host recap as one JSON file (bench/lib.py reads it).

Not part of the collection (bench/ is build-ignored). Enabled by the ansible.cfg bench/lib.py writes; the
file is named by the environment variable MK_BENCH_STATS. It keeps nothing per task, so it costs nothing
measurable, whatever the number of loop items.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_stats
type: aggregate
short_description: write the play recap as JSON for the benchmarks
description:
  - Benchmark-only. Writes {"changed", "ok", "failed_hosts", "unreachable_hosts"} to the file named by E(MK_BENCH_STATS).
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("MK_BENCH_STATS")
        if not path:
            return
        summary = dict((host, stats.summarize(host)) for host in stats.processed)
        record = {
            "changed": dict((h, s["changed"]) for h, s in summary.items()),
            "ok": dict((h, s["ok"]) for h, s in summary.items()),
            "failed_hosts": sorted(h for h, s in summary.items() if s["failures"]),
            "unreachable_hosts": sorted(h for h, s in summary.items() if s["unreachable"]),
        }
        with open(path, "w") as handle:
            json.dump(record, handle)
