# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case 2, registers: N SSH register hosts (default 20, 50, 100), each declared to serve one retail point of a
chain of 1,000 points: bind from scratch, no-op re-run, check-mode audit. Baseline, in the same run:
``ansible.builtin.ping`` over the same hosts, with the same forks and SSH settings (the floor Ansible itself
sets: one SSH exec and one Python start per host).

"Ours" is the play users run: the ``modulkassa.pos.registers`` role when the repository has it (one list of the
cabinet for the whole play, then ids to ``modulkassa.pos.register``), otherwise a hand-written equivalent of it
(``retail_point_info`` once, names -> ids once, ``register`` with ids). The JSON names which one ran. A variant
shows the naive play for comparison: ``register`` given point names on every host, which lists the whole
cabinet once per register.

Every run starts from cold SSH masters (a fresh ControlPath directory; the masters are closed afterwards), as
a CI job or an AWX job does. Each phase runs ``--repeat`` times (median reported, samples kept).
"""

from __future__ import annotations

import argparse
import subprocess

from lib import REPO_ROOT, Emulator, Registers, Runner, api_body, declared_points, emit, log, machine, median_run, ratio, run_in_workspace

PING = [{"name": "Ping the registers", "hosts": "registers", "gather_facts": False,
         "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]

ROLE_PLAY = [{"name": "Bind registers to their retail points", "hosts": "registers", "gather_facts": False,
              "roles": [{"role": "modulkassa.pos.registers"}]}]

# The role's logic, written out (used while the role is not in the repository).
HAND_WRITTEN_PLAY = [{"name": "Bind registers to their retail points", "hosts": "registers", "gather_facts": False,
                      "tasks": [
                          {"name": "List the cabinet's points once for every register of the play",
                           "modulkassa.pos.retail_point_info": {}, "register": "bench_cabinet", "run_once": True},
                          {"name": "Index the points by name once", "run_once": True, "ansible.builtin.set_fact": {
                              "bench_point_ids": "{{ dict(bench_cabinet.points | map(attribute='name')"
                                                 " | zip(bench_cabinet.points | map(attribute='id'))) }}"}},
                          {"name": "The register serves its declared points", "modulkassa.pos.register": {
                              "retail_points": "{{ modulkassa_register_points | map('extract', bench_point_ids)"
                                               " | list }}",
                              "exclusive": True}}]}]

NAMES_PER_REGISTER_PLAY = [{"name": "Naive: names on every register", "hosts": "registers", "gather_facts": False,
                            "tasks": [{"name": "The register serves its declared points", "modulkassa.pos.register": {
                                "retail_points": "{{ modulkassa_register_points }}", "exclusive": True}}]}]


def role_available():
    """The registers role counts once it is committed (a half-written role in the working tree does not)."""
    listed = subprocess.run(["git", "ls-files", "roles/registers/tasks/main.yml"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


class RegistersBench(object):

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.emulator = Emulator(workdir)
        log("registers: starting %d register hosts" % max(args.counts))
        try:
            self.registers = Registers(workdir, self.emulator, max(args.counts), base_port=args.base_port)
        except BaseException:
            self.emulator.stop()
            raise
        log("registers: started in %.1f s" % self.registers.start_seconds)
        self.runner = Runner(workdir, self.emulator, forks=args.forks)
        self.points = declared_points(args.chain_points, tag="Chain")
        self.bodies = [api_body(p) for p in self.points]
        if role_available() and not args.hand_written:
            self.play, self.play_name = ROLE_PLAY, "role modulkassa.pos.registers"
        else:
            self.play, self.play_name = HAND_WRITTEN_PLAY, "hand-written equivalent of the registers role"

    def reset(self):
        """Registers never activated, the chain's points in the cabinet, no binding."""
        self.registers.forget_bindings()
        self.emulator.wipe()
        self.emulator.seed(self.bodies)

    def stop(self):
        self.registers.stop()
        self.emulator.stop()

    def run(self):
        self.reset()
        for count in self.args.counts:
            host_vars = dict((name, {"modulkassa_register_points": [self.points[index]["name"]]})
                             for index, name in enumerate(self.registers.names[:count]))
            inventory = self.registers.inventory_for(count, self.workdir / ("registers-%d.yml" % count), host_vars)
            runs = {"ping": [], "bind": [], "noop": [], "check": [], "names_per_register_noop": []}
            for attempt in range(self.args.repeat):
                tag = "%d-%d" % (count, attempt + 1)
                log("registers N=%d #%d: ping" % (count, attempt + 1))
                runs["ping"].append(self.runner.run(PING, inventory=inventory, label="ping-" + tag))
                self.reset()
                log("registers N=%d #%d: bind from scratch" % (count, attempt + 1))
                runs["bind"].append(self.runner.run(self.play, inventory=inventory, label="bind-" + tag))
                log("registers N=%d #%d: no-op" % (count, attempt + 1))
                runs["noop"].append(self.runner.run(self.play, inventory=inventory, label="noop-" + tag))
                log("registers N=%d #%d: check" % (count, attempt + 1))
                runs["check"].append(self.runner.run(self.play, inventory=inventory, check=True, diff=True,
                                                     label="check-" + tag))
                log("registers N=%d #%d: no-op, naive play (names on every register)" % (count, attempt + 1))
                runs["names_per_register_noop"].append(self.runner.run(NAMES_PER_REGISTER_PLAY, inventory=inventory,
                                                                       label="naive-" + tag))
            ping = median_run(runs["ping"])
            for phase in ("bind", "noop", "check"):
                mine = median_run(runs[phase])
                record = {
                    "case": "registers", "phase": phase, "registers": count, "forks": self.args.forks,
                    "chain_points": self.args.chain_points, "ours_play": self.play_name,
                    "ours": mine, "baselines": {"ping": ping},
                    "slowdown_vs_ping": ratio(mine["wall_s"], ping["wall_s"]),
                    "cpu_ratio_vs_ping": ratio(mine["controller_cpu_s"], ping["controller_cpu_s"]),
                    "targets": self.targets(phase, count, mine, ping),
                    "machine": machine(),
                }
                if phase == "noop":
                    record["variants"] = {"names_per_register": median_run(runs["names_per_register_noop"])}
                emit(record)

    @staticmethod
    def targets(phase, count, mine, ping):
        ok = mine["rc"] == 0 and not mine["failed_hosts"]
        slowdown = ratio(mine["wall_s"], ping["wall_s"])
        lists = mine["api_by_route"].get("GET /api/v1/retail-points", 0)
        targets = []
        if phase == "bind":
            targets.append({"target": "bind from scratch at most 2.5x the ping floor", "value": slowdown,
                            "limit": 2.5, "met": ok and slowdown is not None and slowdown <= 2.5})
            targets.append({"target": "every register bound (changed on every host)",
                            "value": sum(1 for n in mine["changed"].values() if n), "limit": count,
                            "met": ok and sum(1 for n in mine["changed"].values() if n) == count})
        if phase in ("noop", "check"):
            if phase == "noop":
                targets.append({"target": "no-op run at most 1.3x the ping floor", "value": slowdown, "limit": 1.3,
                                "met": ok and slowdown is not None and slowdown <= 1.3})
            targets.append({"target": "one SSH exec per register (%s)" % phase,
                            "value": mine["ssh_execs_per_host_max"], "limit": 1,
                            "met": ok and mine["ssh_execs"] == count and mine["ssh_execs_per_host_max"] == 1})
            targets.append({"target": "no write, changed=0 (%s)" % phase, "value": mine["api_by_method"],
                            "met": ok and set(mine["api_by_method"]) <= {"GET"} and not any(mine["changed"].values())})
        targets.append({"target": "no per-register full list of the cabinet (%s)" % phase,
                        "value": lists, "limit": 1, "met": lists <= 1})
        return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=lambda s: [int(x) for x in s.split(",")], default=[20, 50, 100],
                        help="register counts, comma-separated (default 20,50,100)")
    parser.add_argument("--chain-points", type=int, default=1000, help="retail points in the cabinet (default 1000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per phase (median reported)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--base-port", type=int, default=25000)
    parser.add_argument("--hand-written", action="store_true", help="use the hand-written play even if the role exists")
    args = parser.parse_args(argv)
    run_in_workspace("registers", RegistersBench, args)


if __name__ == "__main__":
    main()
