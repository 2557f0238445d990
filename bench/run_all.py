# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run every benchmark, write bench/results/<timestamp>.json, print the summary tables and the targets.

    bash bench/run_all.sh                 # the full run (about 30-45 minutes on 2 idle cores)
    bash bench/run_all.sh --quick         # smaller sizes, a smoke run of the machinery (about 5 minutes)
    bash bench/run_all.sh --only points   # one case: points, registers, planning, export, cabinet_audit or saved_plans (comma-separated)
    bash bench/run_all.sh --headline [--core 2.16]   # the headline cases, on the newest core or on 2.16

Each case script sets up its own sandbox (emulator, register hosts) in a temporary directory and prints one
JSON object per measured case; this collects them with the machine and the git commit they were measured on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib import REPO_ROOT, machine  # noqa: E402
from summary import render  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
FULL = {
    "points": ["--points", "1000", "--latencies", "0,20", "--subset", "100", "--fit-small", "10", "--repeat", "3"],
    "registers": ["--counts", "20,50,100", "--repeat", "2"],
    "planning": ["--sizes", "1000,5000,10000"],
    "export": ["--points", "1000", "--repeat", "3"],
    "cabinet_audit": ["--counts", "100,1000", "--ssh-registers", "100", "--repeat", "3"],
    "saved_plans": ["--points", "1000"],
}
# The headline cases, small enough to run on each core in turn (bench/run_all.sh --headline [--core 2.16]):
# 1,000 points at 20 ms (ours, sequential writes; the loops on 10 and 5 items only), 10 registers, planning at 1,000
# and 10,000 points (where ansible-core's own handling of the variables shows).
HEADLINE = {
    "points": ["--points", "1000", "--latencies", "20", "--subset", "10", "--fit-small", "5", "--repeat", "3",
               "--p-429", "0"],
    "registers": ["--counts", "10", "--repeat", "2"],
    "planning": ["--sizes", "1000,10000"],
}
QUICK = {
    "points": ["--points", "200", "--latencies", "0,20", "--subset", "20", "--fit-small", "5", "--repeat", "1"],
    "registers": ["--counts", "5,10", "--repeat", "1", "--chain-points", "200"],
    "planning": ["--sizes", "1000,2000"],
    "export": ["--points", "200", "--repeat", "1"],
    "cabinet_audit": ["--counts", "20,100", "--ssh-registers", "10", "--repeat", "1"],
    "saved_plans": ["--points", "100"],
}


def _git(*args):
    done = subprocess.run(["git"] + list(args), cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _ansible_core():
    """The ansible-core the cases run: the one beside this interpreter (bench/lib.py runs its ansible-playbook)."""
    from ansible.release import __version__
    return __version__


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: check the machinery, not the targets")
    parser.add_argument("--headline", action="store_true", help="the headline cases only (run on each core)")
    parser.add_argument("--only", default="points,registers,planning,export,cabinet_audit,saved_plans")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else HEADLINE if args.headline else FULL
    started = datetime.datetime.now(datetime.timezone.utc)
    document = {
        "command": "bash bench/run_all.sh " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": started.isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": machine(),
        "ansible_core": _ansible_core(),
        "python": "%d.%d.%d" % sys.version_info[:3],
        "cases": [],
        "errors": [],
    }
    results_dir = BENCH_DIR / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / ("%s%s-core%s.json" % (started.strftime("%Y%m%dT%H%M%SZ"),
                                                 "-quick" if args.quick else "-headline" if args.headline else "",
                                                 document["ansible_core"]))
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        command = [sys.executable, str(BENCH_DIR / ("bench_%s.py" % name))] + plan[name]
        print("[run_all] %s" % " ".join(command[1:]), file=sys.stderr, flush=True)
        began = time.monotonic()
        done = subprocess.run(command, cwd=BENCH_DIR, stdout=subprocess.PIPE, text=True, check=False)
        for line in done.stdout.splitlines():
            if line.strip().startswith("{"):
                document["cases"].append(json.loads(line))
        if done.returncode != 0:
            document["errors"].append({"bench": name, "rc": done.returncode})
        document.setdefault("durations_s", {})[name] = round(time.monotonic() - began, 1)
        path.write_text(json.dumps(document, indent=1, ensure_ascii=False))  # kept even if a later case fails
    document["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    document["machine_after"] = machine()
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False))
    print(render(document))
    print("\nresults: %s" % path.relative_to(REPO_ROOT))
    return 1 if document["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
