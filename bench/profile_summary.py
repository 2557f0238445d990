# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the time goes in one profiled benchmark run (MK_BENCH_PROFILE=1 MK_BENCH_KEEP=1, see bench/lib.py).

    python bench/profile_summary.py /tmp/mk-bench-points-XXXX/run-004-ours-noop-0/profile.txt [--top 40]

py-spy's raw output holds one line per distinct stack. This splits the samples between the controller's main
process and its forked workers (a worker runs one task for one host) and lists, for each, the frames that
appear in the most samples (inclusive time), so "imports", "argument validation", "waiting for SSH" stand out.
Waiting in select()/recv() shows up too: py-spy samples a thread blocked in a system call as well.
"""

from __future__ import annotations

import argparse
import collections


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    inclusive = {"main": collections.Counter(), "workers": collections.Counter()}
    totals = collections.Counter()
    workers = set()
    main_pid = None
    with open(args.profile) as handle:
        for line in handle:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")
            marks = [i for i, frame in enumerate(frames) if frame.startswith("process ")]
            if not marks:
                continue
            pid = frames[marks[-1]].split(":")[0]
            main_pid = main_pid or frames[marks[0]].split(":")[0]
            role = "main" if pid == main_pid else "workers"
            if role == "workers":
                workers.add(pid)
            totals[role] += int(count)
            for frame in set(frames[marks[-1] + 1:]):
                inclusive[role][frame] += int(count)
    for role in ("main", "workers"):
        extra = " in %d processes" % len(workers) if role == "workers" else ""
        print("== %s: %d samples%s (100 per second of one process)" % (role, totals[role], extra))
        for frame, count in inclusive[role].most_common(args.top):
            print("%6d  %5.1f%%  %s" % (count, 100.0 * count / max(1, totals[role]), frame[:150]))
        print()


if __name__ == "__main__":
    main()
