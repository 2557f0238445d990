# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case export: ``playbooks/export.yml`` over an account of N hand-made points (default 1,000: random ids, three
legal entities, every 25th point held by a register), in three phases, each beside a baseline from the same run:

* ``export``: into an empty directory (the four files written);
* ``reexport``: the same account again over the first export (``modulkassa_export_force``): every file unchanged;
* ``check``: ``--check`` into a new directory: the same read, no file written.

Baseline ``info_to_nice_yaml``: what a hand-written export does - ``modulkassa.pos.retail_point_info`` and
``ansible.builtin.copy`` of ``to_nice_yaml`` of the raw points (no ids logic, no names, no comments, no registers).

Target: at most 2 cabinet requests for the export of N points (it makes one). Ours runs ``--repeat`` times per
phase (median reported, all samples kept). Prints one JSON object per phase.
"""

from __future__ import annotations

import argparse
import uuid

from lib import Emulator, Runner, emit, log, machine, median_run, ratio, run_in_workspace

_ENTITIES = (
    {"inn": "7707083893", "settings": {"egaisSettings": {"kpp": "773601001"}, "defaultTaxMode": "COMMON",
                                       "defaultVatTag": 1113, "fiscalServiceEnabled": False}},
    {"inn": "7814148471", "settings": {"egaisSettings": {"kpp": "781401001"}, "defaultTaxMode": "SIMPLIFIED",
                                       "defaultVatTag": 1109, "fiscalServiceEnabled": True}},
    {"inn": "500100732259", "settings": {"defaultTaxMode": "PATENT", "defaultVatTag": 1105}},
)

# The collection's playbook, as users run it (lib.Runner passes the account as MODULKASSA_URL/LOGIN/PASSWORD).
OURS = [{"name": "Export", "ansible.builtin.import_playbook": "modulkassa.pos.export"}]

BASELINE = [{"name": "Hand-written export", "hosts": "localhost", "gather_facts": False, "tasks": [
    {"name": "Read the points", "modulkassa.pos.retail_point_info": {}, "register": "bench_listed"},
    {"name": "Directory", "ansible.builtin.file": {"path": "{{ modulkassa_export_dir }}/group_vars/all",
                                                   "state": "directory", "mode": "0755"}},
    {"name": "Write them", "ansible.builtin.copy": {
        "dest": "{{ modulkassa_export_dir }}/group_vars/all/retail_points.yml", "mode": "0644",
        "content": "{{ {'modulkassa_points': bench_listed.points} | to_nice_yaml }}"}},
]}]


def account(count):
    """Cabinet bodies of ``count`` hand-made points (uuid4 ids, Cyrillic and punctuation in names)."""
    bodies = []
    for index in range(count):
        body = {"id": str(uuid.uuid4()), "name": "Точка №%05d: «%s»" % (index, "ab"[index % 2]),
                "address": "г. Город, ул. Улица, д. %d" % index, "phone": "495%07d" % index}
        body.update(_ENTITIES[index % len(_ENTITIES)])
        bodies.append(body)
    return bodies


class ExportBench(object):

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.emulator = Emulator(workdir)
        self.runner = Runner(workdir, self.emulator)
        self._dirs = 0

    def seed(self):
        self.emulator.wipe()
        bodies = account(self.args.points)
        self.emulator.seed(bodies)
        api = self.emulator._api
        bound = 0
        for index in range(0, len(bodies), self.args.register_every):
            code = "bench-%s" % uuid.uuid4().hex
            api.put("/api/v1/retail-point/%s" % bodies[index]["id"], json={"posLinkToken": code}).raise_for_status()
            self.emulator._emu.post("/api/device/v1/activate", json={
                "code": code, "serial": "SN-B%05d" % index, "model": "MSPOS-K", "appVersion": "2.4.1"}).raise_for_status()
            bound += 1
        self.emulator.reset_counters()
        return bound

    def new_dir(self):
        self._dirs += 1
        return str(self.workdir / ("export-%03d" % self._dirs))

    def ours(self, phase, dest):
        extra = {"modulkassa_export_dir": dest, "modulkassa_export_force": phase == "reexport"}
        return self.runner.run(OURS, extra_vars=extra, check=phase == "check", label="ours-%s" % phase)

    def stop(self):
        self.emulator.stop()

    def run(self):
        registers = self.seed()
        log("export: %d points, %d registers" % (self.args.points, registers))
        first_dest = self.new_dir()
        ours = {"export": [], "reexport": [], "check": []}
        for attempt in range(self.args.repeat):
            dest = first_dest if attempt == 0 else self.new_dir()
            log("  ours: export #%d" % (attempt + 1))
            ours["export"].append(self.ours("export", dest))
            log("  ours: re-export #%d" % (attempt + 1))
            ours["reexport"].append(self.ours("reexport", first_dest))
            log("  ours: check #%d" % (attempt + 1))
            ours["check"].append(self.ours("check", self.new_dir()))
        log("  baseline: retail_point_info + copy to_nice_yaml")
        baseline = self.runner.run(BASELINE, extra_vars={"modulkassa_export_dir": self.new_dir()}, label="baseline")
        for phase in ("export", "reexport", "check"):
            mine = median_run(ours[phase])
            record = {
                "case": "export", "phase": phase, "points": self.args.points, "registers": registers,
                "ours": mine, "baselines": {"info_to_nice_yaml": baseline},
                "slowdown_vs_baseline": ratio(mine["wall_s"], baseline["wall_s"]),
                "targets": [{"target": "export of %d points: at most 2 cabinet requests" % self.args.points,
                             "value": mine["api_requests"], "limit": 2,
                             "met": mine["rc"] == 0 and mine["api_requests"] <= 2
                             and set(mine["api_by_method"]) <= {"GET"}}],
                "machine": machine(),
            }
            if phase == "reexport":
                record["targets"].append({"target": "re-export of an unchanged account: no change reported",
                                          "value": mine["changed"],
                                          "met": mine["rc"] == 0 and not any(mine["changed"].values())})
            emit(record)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--register-every", type=int, default=25, help="every Nth point is held by a register")
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours per phase (median reported)")
    args = parser.parse_args(argv)
    run_in_workspace("export", ExportBench, args)


if __name__ == "__main__":
    main()
