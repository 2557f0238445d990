# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the integration tests: plays, direct cabinet reads, SQLite reads, killing a run like a crash.

Not a test module (pytest collects ``test_*.py`` only); the test files put this directory on ``sys.path``, and this
module the repository root (for the sandbox package).
Direct reads go to the emulator over HTTP with the fixture's clients, or read its SQLite file read-only:
never through the collection under test.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import sys
import time
import uuid

import yaml

# The process-tree walk is the sandbox's own (sandbox/registers/procs.py, what stopping a register host uses), imported
# from the repository root as ``python -m sandbox`` finds it there (appended: no directory of the root shadows an
# installed module).
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _REPO_ROOT not in sys.path:
    sys.path.append(_REPO_ROOT)
from sandbox.registers.procs import descendants, stat_fields  # noqa: E402  pylint: disable=wrong-import-position

DEMO = ("demo@example.com", "demo-password-1")
OTHER = ("other@example.com", "other-password-2")

# Valid INNs (checksums right), to vary the points' data.
VALID_INNS = ("7707083893", "500100732259", "7736050003")


def env_for(cabinet, account=DEMO):
    return {"MODULKASSA_URL": cabinet.url, "MODULKASSA_LOGIN": account[0], "MODULKASSA_PASSWORD": account[1]}


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def play(tasks, hosts="localhost", name="test", **extra):
    entry = {"name": name, "hosts": hosts, "gather_facts": False}
    entry.update(extra)
    entry["tasks"] = tasks
    return entry


def dump(*plays):
    return yaml.safe_dump(list(plays), allow_unicode=True, sort_keys=False, width=10000)


def point_specs(tag, count, start=0, **overrides):
    """``count`` declared points named ``<tag> NNN`` with varied, valid attributes."""
    points = []
    for index in range(start, start + count):
        inn = VALID_INNS[index % len(VALID_INNS)]
        spec = {"name": "%s %03d" % (tag, index), "address": "Город, улица %d" % index,
                "phone": "+7 912 %03d-%02d-%02d" % (index % 1000, index % 100, (index * 7) % 100),
                "inn": inn, "tax_mode": ("COMMON", "PATENT", "SIMPLIFIED")[index % 3],
                "vat_tag": 1102 + index % 6}
        if len(inn) == 10:  # a legal entity: the cabinet requires its KPP
            spec["kpp"] = "773601001"
        spec.update(overrides)
        points.append(spec)
    return points


def points_named(cabinet, prefix, account=DEMO):
    """The account's points whose name starts with ``prefix`` (a direct read, not through the collection)."""
    with cabinet.api(*account) as api:
        response = api.get("/api/v1/retail-points")
        response.raise_for_status()
        return [p for p in response.json() if str(p.get("name", "")).startswith(prefix)]


def point(cabinet, point_id, account=DEMO):
    with cabinet.api(*account) as api:
        return api.get("/api/v1/retail-point/%s" % point_id).json()


def holder(point_body):
    """The serial of the register the cabinet says holds the point (``point_body``), or None."""
    if (point_body.get("kktStatus") or "KKT_NOT_PLUGGED") == "KKT_NOT_PLUGGED":
        return None
    return (point_body.get("kkmInfo") or {}).get("serialNumber")


def holder_of(cabinet, point_id, account=DEMO):
    """``holder`` of the point as the cabinet shows it now (a direct read)."""
    return holder(point(cabinet, point_id, account))


def sqlite_rows(cabinet, query, params=()):
    """Rows from the emulator's database, opened read-only (WAL: safe beside the running server)."""
    path = os.path.join(str(cabinet.data_dir), "cabinet.sqlite3")
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10) as db:
        return list(db.execute(query, params))


def live_codes(cabinet, point_ids):
    """{point id: live code} for the points that have one."""
    marks = ",".join("?" * len(point_ids))
    return dict(sqlite_rows(cabinet, "SELECT id, code FROM points WHERE code IS NOT NULL AND id IN (%s)" % marks,
                            list(point_ids)))


def unwrap_unsafe(value):
    """The plain value of ``ansible-inventory``'s JSON, which marks strings it treats as unsafe (plugin-provided,
    ``!unsafe``) as ``{"__ansible_unsafe": ...}``."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, unwrap_unsafe(v)) for k, v in value.items())
    if isinstance(value, list):
        return [unwrap_unsafe(v) for v in value]
    return value


def create_points(cabinet, names, account=DEMO):
    """Create points by name directly through the API (set-up, not through the collection); their ids."""
    with cabinet.api(*account) as api:
        ids = []
        for name in names:
            response = api.post("/api/v1/retail-points", json={"id": str(uuid.uuid4()), "name": name})
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def bind_playbook(hosts):
    """A play binding each of ``hosts`` to the points of the extra variable ``wanted[inventory_hostname]``."""
    return dump(play([{"name": "bind", "modulkassa.pos.register": {"retail_points": "{{ wanted[inventory_hostname] }}"}}],
                     hosts=":".join(hosts)))


def by_host(run, task):
    """{host: task record} for the hosts that ran ``task`` (not skipped)."""
    return dict((t["host"], t) for t in run.tasks if t["task"] == task and t["status"] != "skipped")


def total_requests(cabinet, login=None):
    counters = cabinet.counters()
    if login is not None:
        return sum(counters.get(login, {}).values())
    return sum(sum(c.values()) for c in counters.values())


_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def once_per_session(tmp_path_factory, name, produce):
    """``produce()`` (JSON data) once per test session, shared by every xdist worker through a locked file.

    For the corpus-style tests: one playbook run checks many cases, and each case is its own test. Whichever worker
    gets a case first runs the playbook; the other reads its results instead of running it again. (xdist_group
    does not keep a module's tests on one worker here: the loadgroup suffix is not applied with pytest 9.)"""
    shared = tmp_path_factory.getbasetemp().parent / ("issue6-%s" % _RUN_ID)
    shared.mkdir(exist_ok=True)
    path = shared / ("%s.json" % name)
    with open(shared / ("%s.lock" % name), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        data = produce()
        path.write_text(json.dumps(data), encoding="utf-8")
        return data


# ---- killing a run the way a crash does ------------------------------------------------------------------------

def _alive(pid):
    # Not procs.alive(): that one reaps a zombie child, and ansible-playbook is ours; kill_tree reaps it with poll().
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def kill_tree(process):
    """SIGKILL ``ansible-playbook`` and every process below it, whatever its session: what a crash of the controller
    (power, OOM killer, a killed container) does. Returns the pids killed.

    ansible-core's workers call setsid() (2.19+), so a process-group kill misses them, and a process whose parent
    dies is re-parented out of the tree. So the whole tree is frozen first (SIGSTOP: a stopped process can neither
    fork nor exit), walked again until no new process appears, then killed at once; repeated until none lives.
    """
    tree = set()
    for dummy in range(100):
        found = {process.pid} | set(descendants(process.pid)) | {pid for pid in tree if _alive(pid)}
        for pid in found - tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        if found <= tree:
            break
        tree |= found
    for dummy in range(100):
        living = [pid for pid in tree if _alive(pid)]
        if not living:
            break
        for pid in living:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.poll()  # reap ansible-playbook itself (our child), so it does not count as alive
        time.sleep(0.02)
    else:
        raise AssertionError("processes of the killed run survive: %s" % [pid for pid in tree if _alive(pid)])
    process.wait(timeout=30)
    return sorted(tree)


def kill_process_group(process):
    """SIGKILL ``ansible-playbook``'s process group only: what a CI cancel or ``kill -9 -PGID`` does. Workers of
    ansible-core 2.19+ run in their own sessions and survive it (the collection's plugins then stop on their own)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def writes_after(sample, seconds, step=0.1):
    """Samples ``sample()`` (a count of writes) for ``seconds``; returns [(seconds since the start, count)]."""
    started = time.monotonic()
    samples = []
    while True:
        now = time.monotonic() - started
        samples.append((now, sample()))
        if now >= seconds:
            return samples
        time.sleep(step)
