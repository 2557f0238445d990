# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interruptions (issue 6): SIGKILL of ``ansible-playbook`` (its whole process group) at random points of a
converge of points and of a binding of registers; the next run completes, nothing is duplicated, and no code
stays live: bound points hold none, and every code a killed run issued no longer activates anything.

The kill points are random (the seed is in every assertion message) but tied to what the emulator has seen
(the n-th create, the first code issued), so each kill lands inside the work and not before or after it.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import sys
import threading
import time
import uuid

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reliability_helpers import (  # noqa: E402
    DEMO,
    by_host,
    dump,
    env_for,
    holder,
    live_codes,
    play,
    point_specs,
    points_named,
    sqlite_rows,
    unique,
)

SEED = int(os.environ.get("MK_INTERRUPT_SEED", time.time_ns() % 1_000_000))


def _kill(process):
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "seed %d: the run ended before the kill" % SEED


def _wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("seed %d: %s did not happen within %s s" % (SEED, what, timeout))


def _points_play(tag, address_suffix=""):
    return dump(play([{"name": "points", "modulkassa.pos.retail_points": {
        "points": point_specs(tag, 60, address="Адрес%s" % address_suffix), "concurrency": 4}}]))


def test_killed_points_converges_leave_no_duplicates(cabinet, run_playbook):
    rng = random.Random(SEED)
    tag = unique("Kill")
    env = env_for(cabinet)
    # 60 creates, 4 at a time, 60 ms each: ~1 s of writes, long enough to kill inside it.
    cabinet.knobs(latency_ms=60)

    def writes():
        counters = cabinet.counters(DEMO[0])
        return counters.get("POST /api/v1/retail-points", 0) + counters.get("PUT /api/v1/retail-point/{id}", 0)

    # First run: killed after a random number of creates.
    kill_after = rng.randint(1, 40)
    cabinet.reset_counters()
    process = run_playbook(_points_play(tag), env=env, background=True)
    _wait_until(lambda: writes() >= kill_after, 60, "create #%d" % kill_after)
    _kill(process)
    created = len(points_named(cabinet, tag + " "))
    assert 0 < created < 60, "seed %d: the kill after %d writes did not land inside the converge" % (SEED, kill_after)

    # Second run declares a new address for every point (creates the rest, updates the others): killed too.
    kill_after = rng.randint(1, 40)
    cabinet.reset_counters()
    process = run_playbook(_points_play(tag, " 2"), env=env, background=True)
    _wait_until(lambda: writes() >= kill_after, 60, "write #%d" % kill_after)
    _kill(process)

    cabinet.restore_knobs()
    run = run_playbook(_points_play(tag, " 2"), env=env)
    assert run.rc == 0, run.output_tail()
    points = points_named(cabinet, tag + " ")
    names = collections.Counter(p["name"] for p in points)
    assert len(points) == 60 and max(names.values()) == 1, "seed %d: duplicates %s" % (SEED, names.most_common(3))
    assert {p["address"] for p in points} == {"Адрес 2"}, "seed %d" % SEED
    cabinet.reset_counters()
    run = run_playbook(_points_play(tag, " 2"), env=env)
    assert run.result("points")["changed"] is False and cabinet.writes(DEMO[0]) == 0


class _CodeWatcher(threading.Thread):
    """Collects every activation code the cabinet holds for some points while a run is under way."""

    def __init__(self, cabinet, point_ids):
        super().__init__(daemon=True)
        self.cabinet, self.point_ids = cabinet, list(point_ids)
        self.codes = set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.codes.update(live_codes(self.cabinet, self.point_ids).values())
            time.sleep(0.01)

    def stop(self):
        self.done.set()
        self.join(timeout=10)


def test_killed_bindings_complete_on_the_next_run_and_leave_no_live_code(cabinet, registers, run_playbook):
    rng = random.Random(SEED)
    hosts = ("reg01", "reg02", "reg03")
    tag = unique("KillBind")
    with cabinet.api(*DEMO) as api:
        ids = [api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": "%s %d" % (tag, i)}).json()["id"]
               for i in range(len(hosts))]
    wanted = dict((host, ["%s %d" % (tag, i)]) for i, host in enumerate(hosts))
    playbook = dump(play([{"name": "bind", "modulkassa.pos.register": {"retail_points": "{{ wanted[inventory_hostname] }}"}}],
                         hosts=":".join(hosts)))
    watcher = _CodeWatcher(cabinet, ids)
    watcher.start()
    try:
        # Two killed runs: the first some time after the first code was issued (while the agents redeem), the
        # second at a random moment of its run (before any code, or while codes are issued and redeemed).
        for delay, trigger in ((rng.uniform(0.0, 0.8), "code"), (rng.uniform(1.0, 3.0), "start")):
            seen = set(watcher.codes)
            process = run_playbook(playbook, inventory=registers.inventory, extra_vars={"wanted": wanted},
                                   env=env_for(cabinet), background=True)
            if trigger == "code":
                _wait_until(lambda: watcher.codes - seen, 60, "a code being issued")
            time.sleep(delay)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        run = run_playbook(playbook, inventory=registers.inventory, extra_vars={"wanted": wanted}, env=env_for(cabinet))
    finally:
        watcher.stop()
    assert run.rc == 0, "seed %d\n%s" % (SEED, run.output_tail())
    assert all(task["status"] in ("ok", "changed") for task in by_host(run, "bind").values())
    assert watcher.codes, "seed %d: no code was ever issued" % SEED
    for host, point_id in zip(hosts, ids):
        assert holder(points_named(cabinet, wanted[host][0])[0]) == registers.serial(host), "seed %d" % SEED
    assert live_codes(cabinet, ids) == {}, "seed %d: a bound point still has a live code" % SEED
    # Every code any run issued is dead now: none binds a stranger's register.
    for number, code in enumerate(sorted(watcher.codes)):
        answer = httpx.post(cabinet.url + "/api/device/v1/activate", timeout=10,
                            json={"code": code, "serial": "SN-INTRUDER-%d" % number, "model": "x", "appVersion": "1"})
        assert answer.status_code in (404, 409, 410), "seed %d: a stale code still works (%d)" % (SEED, answer.status_code)
    redeemed = sqlite_rows(cabinet, "SELECT serial FROM spent_codes WHERE point_id IN (%s)" % ",".join("?" * len(ids)), ids)
    assert not [serial for (serial,) in redeemed if serial.startswith("SN-INTRUDER")]
