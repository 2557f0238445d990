# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Case 4, the binding audit from the cabinet alone (``modulkassa_registers_via: cabinet``), beside the SSH audit.

Ours is the collection's own ``playbooks/registers.yml`` in check mode with diffs (the registers part of
``modulkassa.pos.audit``), in both modes:

* **SSH audit** (the baseline): N real register hosts (one sshd each, ``python -m sandbox registers start``), each
  bound to one point; one agent ``status`` exec per register.
* **cabinet audit of the same N registers**: the same inventory with ``-e modulkassa_registers_via=cabinet``: one list
  of the cabinet for the whole play, no SSH.
* **cabinet audit at 100 and 1,000 registers**: inventories of the export's shape (hosts named by serial with
  ``modulkassa_register_serial`` and ``modulkassa_register_points``, ``modulkassa_registers_via: cabinet`` in
  group_vars/registers.yml, ``modulkassa_points`` in group_vars/all, no ansible_host), no sshd at all; the registers
  beyond the real ones are serials the device API activated (what a register's agent does).
* **the role in one play**: the same inventories with the ``registers`` role imported in one play over every
  register (what a playbook calling the role directly runs; the collection's playbooks did so before decision D42).
* **the plugin alone**: the same inventories with only the ``modulkassa.pos.bindings_audit`` task (no role around it).
* **floor**: the same inventories with one ``ansible.builtin.debug`` task run once: what ``ansible-playbook`` itself
  costs for that many hosts (start-up, inventory parsing, the play's per-host bookkeeping), measured in the same run.

Every register serves one point of the chain and the cabinet agrees with the data: every run is a no-drift audit
(exit 0, changed 0). Each phase runs ``--repeat`` times (median reported, samples kept).
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import yaml

from lib import DEMO, PYTHON, REPO_ROOT, Emulator, Registers, Runner, emit, log, machine, median_run, ratio, run_in_workspace

AUDIT_PLAYBOOK = REPO_ROOT / "playbooks" / "registers.yml"
FLOOR = [{"name": "ansible-playbook's own cost for these hosts", "hosts": "registers", "gather_facts": False,
          "tasks": [{"name": "Once", "ansible.builtin.debug": {"msg": "floor"}, "run_once": True}]}]
# The plugin alone, without the role around it: what the role's own per-host steps cost is the difference.
TASK_ONLY = [{"name": "bindings_audit alone", "hosts": "registers", "gather_facts": False,
              "tasks": [{"name": "Audit", "modulkassa.pos.bindings_audit": {}, "run_once": True}]}]
# The registers role in one play over every register (what the collection's playbooks ran before decision D42, and
# what a playbook that calls the role directly runs): the role's own per-host steps are the difference to ours.
ROLE_PLAY = [{"name": "The registers role in one play", "hosts": "registers", "gather_facts": False,
              "tasks": [{"name": "Role", "ansible.builtin.import_role": {"name": "modulkassa.pos.registers",
                                                                         "rolespec_validate": False}}]}]
LIST = "GET /api/v1/retail-points"


class CabinetAuditBench(object):

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.emulator = Emulator(workdir)
        self.api = httpx.Client(base_url=self.emulator.url, auth=DEMO, timeout=60.0)
        self.runner = Runner(workdir, self.emulator, forks=args.forks)
        self.registers = None

    def start_registers(self, attempts=3):
        """The sandbox gives each sshd 10 s for its first login; on a loaded machine one of 100 can miss it: retry."""
        for attempt in range(1, attempts + 1):
            log("cabinet audit: starting %d register hosts (attempt %d)" % (self.args.ssh_registers, attempt))
            try:
                self.registers = Registers(self.workdir, self.emulator, self.args.ssh_registers,
                                           base_port=self.args.base_port)
                return
            except RuntimeError as exc:
                log("cabinet audit: %s" % str(exc)[:300])
                self.stop_registers()
                if attempt == attempts:
                    raise

    def stop(self):
        """Everything this bench started, also the register hosts of a start that failed half-way."""
        self.api.close()
        self.stop_registers()
        self.emulator.stop()

    def stop_registers(self):
        subprocess.run([PYTHON, "-m", "sandbox", "registers", "stop", "--data-dir", str(self.workdir / "registers-data")],
                       cwd=REPO_ROOT, capture_output=True, timeout=120, check=False)

    def _create(self, name):
        point_id = str(uuid.uuid4())
        self.api.post("/api/v1/retail-points", json={"id": point_id, "name": name}).raise_for_status()
        return point_id

    def _activate(self, item):
        point_id, serial = item
        code = "%012d" % secrets.randbelow(10 ** 12)
        self.api.put("/api/v1/retail-point/%s" % point_id, json={"posLinkToken": code}).raise_for_status()
        httpx.post(self.emulator.url + "/api/device/v1/activate", timeout=60.0, json={
            "code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "1.0.0"}).raise_for_status()

    def setup(self):
        """One point per register, active on it: the real registers bound by their agents (playbooks/registers.yml,
        not measured), the others, fictitious serials, by the device API as an agent would."""
        self.emulator.wipe()
        real = [self.registers.hosts[name]["modulkassa_register_serial"] for name in self.registers.names]
        serials = real + ["SN-BENCH-%05d" % i for i in range(max(self.args.counts) - len(real))]
        self.chain = [("Audit shop %05d" % i, serial) for i, serial in enumerate(serials)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(self._create, [name for name, dummy in self.chain]))
            list(pool.map(self._activate, list(zip(ids, serials))[len(real):]))
        bound = self.runner.run(AUDIT_PLAYBOOK, inventory=self.ssh_inventory(), label="bind-real-registers")
        if bound["rc"] != 0:
            raise RuntimeError("binding the real registers failed: %s" % bound.get("output_tail"))
        log("cabinet audit: %d points, each active on its register" % len(self.chain))

    def ssh_inventory(self):
        host_vars = dict((name, {"modulkassa_register_points": [self.chain[index][0]]})
                         for index, name in enumerate(self.registers.names))
        return self.registers.inventory_for(len(self.registers.names), self.workdir / "ssh-registers.yml", host_vars)

    def exported_inventory(self, count):
        """The export's shape for the first ``count`` registers."""
        directory = self.workdir / ("exported-%d" % count)
        (directory / "group_vars" / "all").mkdir(parents=True)
        chain = self.chain[:count]
        hosts = dict((serial, {"modulkassa_register_serial": serial, "modulkassa_register_points": [name]})
                     for name, serial in chain)
        (directory / "registers.yml").write_text(yaml.safe_dump(
            {"all": {"children": {"registers": {"hosts": hosts}}}}, allow_unicode=True, sort_keys=False))
        (directory / "group_vars" / "registers.yml").write_text("modulkassa_registers_via: cabinet\n")
        (directory / "group_vars" / "all" / "retail_points.yml").write_text(yaml.safe_dump(
            {"modulkassa_points": [{"name": name} for name, dummy in chain]}, allow_unicode=True))
        return directory

    def measure(self, label, playbook, inventory, extra_vars=None):
        runs = []
        for attempt in range(self.args.repeat):
            log("cabinet audit: %s #%d" % (label, attempt + 1))
            runs.append(self.runner.run(playbook, inventory=inventory, extra_vars=extra_vars, check=True, diff=True,
                                        label="%s-%d" % (label, attempt + 1)))
        return median_run(runs)

    def run(self):
        self.start_registers()
        self.setup()
        n_ssh = len(self.registers.names)
        ssh_inventory = self.ssh_inventory()
        exported = dict((count, self.exported_inventory(count)) for count in self.args.counts)
        results = {
            "ssh_audit": self.measure("ssh-audit-%d" % n_ssh, AUDIT_PLAYBOOK, ssh_inventory),
            "cabinet_audit_same_hosts": self.measure("cabinet-audit-ssh-inventory-%d" % n_ssh, AUDIT_PLAYBOOK,
                                                     ssh_inventory, {"modulkassa_registers_via": "cabinet"}),
        }
        for count in self.args.counts:
            results["cabinet_audit_%d" % count] = self.measure("cabinet-audit-%d" % count, AUDIT_PLAYBOOK, exported[count])
            results["role_play_%d" % count] = self.measure("role-play-%d" % count, ROLE_PLAY, exported[count])
            results["task_only_%d" % count] = self.measure("task-only-%d" % count, TASK_ONLY, exported[count])
            results["floor_%d" % count] = self.measure("floor-%d" % count, FLOOR, exported[count])
        small, large = min(self.args.counts), max(self.args.counts)
        record = {
            "case": "cabinet_audit", "phase": "check", "registers": large, "ssh_registers": n_ssh,
            "counts": self.args.counts, "forks": self.args.forks, "runs": results,
            "speedup_vs_ssh_audit": ratio(results["ssh_audit"]["wall_s"], results["cabinet_audit_same_hosts"]["wall_s"]),
            "growth_%d_to_%d" % (small, large): round(results["cabinet_audit_%d" % large]["wall_s"]
                                                     / results["cabinet_audit_%d" % small]["wall_s"], 2),
            "floor_growth_%d_to_%d" % (small, large): round(results["floor_%d" % large]["wall_s"]
                                                           / results["floor_%d" % small]["wall_s"], 2),
            "machine": machine(),
        }
        record["targets"] = self.targets(record, results, small, large)
        emit(record)

    @staticmethod
    def targets(record, results, small, large):
        cabinet_runs = [name for name in results if name.startswith(("cabinet_audit", "task_only", "role_play"))]
        ok = all(results[name]["rc"] == 0 and not any(results[name]["changed"].values()) for name in results)
        requests = max(results[name]["api_requests"] for name in cabinet_runs)
        ssh = max(results[name]["ssh_execs"] for name in cabinet_runs)
        growth = record["growth_%d_to_%d" % (small, large)]
        return [
            {"target": "every audit exits 0 with nothing to change (the cabinet agrees with the data)", "value": ok,
             "met": ok},
            {"target": "cabinet audit: at most 2 cabinet requests", "value": requests, "limit": 2, "met": requests <= 2},
            {"target": "cabinet audit: no SSH exec", "value": ssh, "limit": 0, "met": ssh == 0},
            {"target": "cabinet audit at least 30x faster than the SSH audit of the same registers",
             "value": record["speedup_vs_ssh_audit"], "limit": 30,
             "met": bool(record["speedup_vs_ssh_audit"] and record["speedup_vs_ssh_audit"] >= 30)},
            {"target": "cabinet audit at %d registers under 2x the time at %d" % (large, small), "value": growth,
             "limit": 2, "met": growth < 2},
            {"target": "ansible-playbook's own floor, %d -> %d hosts (same run)" % (small, large), "informational": True,
             "value": record["floor_growth_%d_to_%d" % (small, large)], "met": True},
        ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=lambda s: [int(x) for x in s.split(",")], default=[100, 1000],
                        help="register counts audited from the cabinet, comma-separated (default 100,1000)")
    parser.add_argument("--ssh-registers", type=int, default=100, help="real register hosts for the SSH audit")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase (median reported)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--base-port", type=int, default=26000)
    args = parser.parse_args(argv)
    run_in_workspace("cabinet-audit", CabinetAuditBench, args)


if __name__ == "__main__":
    main()
