# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scale (issue 5), beyond one machine: the registers play run as concurrent ``--limit`` slices (how AWX job
slicing runs it) ends consistent; and ``retail_points`` reading its points from a data file (``points_file``),
the path docs/scale.md recommends for thousands of points. The timings live in bench/, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import DEMO, env_for, holder, live_codes, point, unique  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REGISTERS_PLAYBOOK = os.path.join(REPO_ROOT, "playbooks", "registers.yml")
SLICES = ("reg01,reg02", "reg03,reg04")


def _slice_inventory(registers, wanted, path):
    """The register hosts of ``wanted`` with their declared points (``modulkassa_register_points``: names)."""
    hosts = {}
    for host, names in wanted.items():
        hosts[host] = dict(registers.hosts[host], modulkassa_register_points=names)
    path.write_text(yaml.safe_dump({"all": {"children": {"registers": {"hosts": hosts}}}}, allow_unicode=True))
    return str(path)


def _start(ansible_env, cabinet, inventory, limit, workdir):
    """``ansible-playbook playbooks/registers.yml --limit <slice>`` in the background, as one AWX job slice."""
    workdir.mkdir()
    env = dict(ansible_env, MK_TEST_RESULTS=str(workdir / "results.jsonl"), **env_for(cabinet))
    command = [sys.executable, "-m", "ansible.cli.playbook", REGISTERS_PLAYBOOK, "-i", inventory, "--limit", limit]
    with open(workdir / "output.log", "w") as out:
        return subprocess.Popen(command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _finish(process, workdir):
    """(rc, {host: changed count}, output tail) of a finished slice."""
    process.wait(timeout=300)
    stats = {}
    results = workdir / "results.jsonl"
    for line in results.read_text(encoding="utf-8").splitlines() if results.exists() else []:
        record = json.loads(line)
        if record.get("type") == "stats":
            stats = dict((host, s["changed"]) for host, s in record["stats"].items())
    return process.returncode, stats, (workdir / "output.log").read_text(errors="replace")[-3000:]


def _run_slices(ansible_env, cabinet, inventory, tmp_path, label):
    runs = [(_start(ansible_env, cabinet, inventory, limit, tmp_path / ("%s-%d" % (label, i))), tmp_path / ("%s-%d" % (label, i)))
            for i, limit in enumerate(SLICES)]
    return [_finish(process, workdir) for process, workdir in runs]


def _agent_bindings(registers, host):
    """The register's own view (its agent's ``status``, reconciled with the cabinet), read on the machine itself."""
    done = subprocess.run([registers.hosts[host]["modulkassa_agent_path"], "status"], capture_output=True, text=True,
                          timeout=60, check=True)
    return set(b["retailPointId"] for b in json.loads(done.stdout)["bindings"])


@pytest.mark.slow
def test_concurrent_slices_of_the_registers_play_end_consistent(cabinet, registers, ansible_env, tmp_path):
    tag = unique("Slice")
    names = ["%s %d" % (tag, i) for i in range(8)]
    with cabinet.api(*DEMO) as api:
        ids = dict((name, api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": name}).json()["id"])
                   for name in names)
    # Before: one point per register. After: every one of those moves to a register of the OTHER slice, and each
    # register gains a new point, so the two slices rebind across each other while both run.
    before = {"reg01": [names[0]], "reg02": [names[1]], "reg03": [names[2]], "reg04": [names[3]]}
    after = {"reg01": [names[2], names[4]], "reg02": [names[3], names[5]],
             "reg03": [names[0], names[6]], "reg04": [names[1], names[7]]}
    for label, wanted in (("before", before), ("after", after)):
        inventory = _slice_inventory(registers, wanted, tmp_path / ("%s.yml" % label))
        for rc, stats, output in _run_slices(ansible_env, cabinet, inventory, tmp_path, label):
            assert rc == 0, output
            assert stats and all(changed >= 1 for changed in stats.values()), (stats, output)

    # Every point is held by the register that declares it, as the cabinet and the registers themselves see it;
    # no point is on two registers, no register keeps a point of this test it does not declare, no code is left.
    declared_by = dict((name, host) for host, wanted in after.items() for name in wanted)
    for name, host in declared_by.items():
        assert holder(point(cabinet, ids[name])) == registers.serial(host), name
    mine = set(ids.values())
    seen = {}
    for host, wanted in after.items():
        held = _agent_bindings(registers, host) & mine
        assert held == set(ids[name] for name in wanted), host
        for point_id in held:
            assert point_id not in seen, "%s is bound to %s and %s" % (point_id, seen[point_id], host)
            seen[point_id] = host
    assert live_codes(cabinet, list(ids.values())) == {}

    # Re-running both slices at once changes nothing and writes nothing.
    cabinet.reset_counters()
    inventory = _slice_inventory(registers, after, tmp_path / "again.yml")
    for rc, stats, output in _run_slices(ansible_env, cabinet, inventory, tmp_path, "again"):
        assert rc == 0, output
        assert stats and all(changed == 0 for changed in stats.values()), (stats, output)
    assert cabinet.writes(DEMO[0]) == 0
    # One list of the cabinet per slice (the role resolves names once), not one per register.
    assert cabinet.counters(DEMO[0]).get("GET /api/v1/retail-points") == len(SLICES)


def _file_play(path, check=False):
    return yaml.safe_dump([{"name": "points from a file", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "points", "modulkassa.pos.retail_points": {"points_file": str(path)}, "register": "out"}]}])


def test_points_file_converges_like_points_and_is_checked_before_any_request(cabinet, run_playbook, tmp_path):
    tag = unique("File")
    points = [{"name": "%s %d" % (tag, i), "address": "Москва, Арбат %d" % i, "phone": "+7 495 100-00-0%d" % i,
               "inn": "7707083893", "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102} for i in range(3)]
    data = tmp_path / "retail_points.yml"  # the fleet data's shape: a group_vars file moved out of the inventory
    data.write_text(yaml.safe_dump({"modulkassa_points": points}, allow_unicode=True), encoding="utf-8")

    run = run_playbook(_file_play(data), env=env_for(cabinet))
    out = run.result("points")
    assert run.rc == 0 and out["changed"] is True
    assert out["summary"]["create"] == 3
    created = dict((p["name"], p) for p in cabinet.api(*DEMO).get("/api/v1/retail-points").json()
                   if p["name"].startswith(tag))
    assert sorted(created) == [p["name"] for p in points]
    assert created[points[1]["name"]]["phone"] == "4951000001"
    assert created[points[1]["name"]]["settings"]["egaisSettings"]["kpp"] == "773601001"

    cabinet.reset_counters()
    run = run_playbook(_file_play(data), env=env_for(cabinet))
    assert run.rc == 0 and run.result("points")["changed"] is False
    assert cabinet.counters(DEMO[0]) == {"GET /api/v1/retail-points": 1}

    # A JSON file whose second entry is wrong: the path names it, and nothing is requested.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([points[0], dict(points[1], inn="7707083894")]), encoding="utf-8")
    cabinet.reset_counters()
    run = run_playbook(_file_play(bad), env=env_for(cabinet))
    out = run.result("points")
    assert run.rc != 0 and out["field"] == "points_file[1].inn", out
    assert cabinet.counters(DEMO[0]) == {}
