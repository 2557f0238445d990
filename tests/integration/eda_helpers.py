# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the event source tests: run ``main(queue, args)`` as ansible-rulebook does, and change the cabinet.

``RunningSource`` loads ``cabinet_changes.py`` with ``runpy.run_path`` from the collections path (as
ansible-rulebook does, so the source's own import of the collection is exercised) and runs its ``main`` in an
event loop of its own thread; the queue it is given is an ``asyncio.Queue`` whose ``put`` hands every event to
the test (the ``MockQueue`` of ansible.eda's tests).
"""

from __future__ import annotations

import asyncio
import json
import queue
import runpy
import sqlite3
import threading
import time
import uuid

import httpx

SOURCE_PATH = ("extensions", "eda", "plugins", "event_source", "cabinet_changes.py")
LIST_ROUTE = "GET /api/v1/retail-points"
INN10 = "7707083893"
KPP = "773601001"
WATCHED = "other@example.com"  # hardly used by other tests: a small baseline, and its counters are ours


class RunningSource(object):
    """``main(queue, args)`` of the event source, running until ``stop()``."""

    def __init__(self, collection_root, args):
        self._module = runpy.run_path(str(collection_root.joinpath(*SOURCE_PATH)))
        self._args = args
        self._inbox = queue.Queue()
        self.events = []  # everything received so far, in order
        self._consumed = 0  # events[:_consumed] were looked at by wait_for
        self.error = None
        self._loop = None
        self._task = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-source", daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the event source's loop did not start"

    def _run(self):
        inbox = self._inbox

        class TestQueue(asyncio.Queue):
            async def put(self, item):
                inbox.put(item)

        async def run_main():
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._ready.set()
            await self._module["main"](TestQueue(), dict(self._args))

        # asyncio.run, as ansible-rulebook runs its engine: at the end it also waits for the loop's default
        # executor, so a source that left a poll in such a thread would hold the shutdown up.
        try:
            asyncio.run(run_main())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: B902 - reported by stop() / wait_for()
            self.error = exc
        finally:
            self._ready.set()

    @property
    def running(self):
        return self._thread.is_alive()

    def _collect(self, timeout):
        try:
            self.events.append(self._inbox.get(timeout=timeout))
            return True
        except queue.Empty:
            return False

    def wait_for(self, predicate, timeout=20.0, what="an event"):
        """The first event received from now on (or already received and not yet consumed) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        start = index = self._consumed
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if predicate(event):
                    self._consumed = index
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (self.error is not None and self._inbox.empty()):
                raise AssertionError("no %s within %.0f s (source error: %r); events: %s"
                                     % (what, timeout, self.error, json.dumps(self.events[start:], indent=1)[:4000]))
            self._collect(min(remaining, 0.2))

    def wait_for_type(self, kind, point_id=None, timeout=20.0):
        return self.wait_for(lambda e: e["modulkassa"]["type"] == kind and (
            point_id is None or e["modulkassa"].get("point", {}).get("id") == point_id), timeout, kind)

    def drain(self, settle=0.0):
        """Every event received so far (waiting ``settle`` seconds for stragglers)."""
        deadline = time.monotonic() + settle
        while self._collect(max(0.0, deadline - time.monotonic()) or 0.01):
            pass
        return list(self.events)

    def stop(self, timeout=10.0):
        """Cancel ``main`` (as ansible-rulebook does at shutdown) and return every event it emitted."""
        if self._loop is not None and self._task is not None and self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._task.cancel)
            except RuntimeError:
                pass
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the event source did not stop within %s s of being cancelled" % timeout
        return self.drain()


def source_args(cabinet, login=WATCHED, **extra):
    args = {"cabinet_url": cabinet.url, "cabinet_login": login, "cabinet_password": cabinet.accounts[login],
            "interval": 0.2, "retries": 2}
    args.update(extra)
    return args


def list_requests(cabinet, login=WATCHED):
    return cabinet.counters(login).get(LIST_ROUTE, 0)


def wait_for_polls(cabinet, count, login=WATCHED, timeout=20.0):
    """Wait until the source has sent ``count`` more list requests than now.

    Polls are sequential, so once request N+1 arrived, poll N has been fully handled (its events queued).
    """
    target = list_requests(cabinet, login) + count
    deadline = time.monotonic() + timeout
    while list_requests(cabinet, login) < target:
        assert time.monotonic() < deadline, "the source did not poll %d times within %s s" % (count, timeout)
        time.sleep(0.05)


def new_point(api, **fields):
    body = {"id": str(uuid.uuid4()), "name": "EDA %s" % uuid.uuid4().hex[:8], "address": "Moscow, Tverskaya 1",
            "phone": "9123456789", "inn": INN10,
            "settings": {"defaultTaxMode": "COMMON", "defaultVatTag": 1105, "fiscalServiceEnabled": False,
                         "egaisSettings": {"kpp": KPP}}}
    body.update(fields)
    response = api.post("/api/v1/retail-points", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def edit_point(api, point_id, **partial):
    response = api.put("/api/v1/retail-point/%s" % point_id, json=partial)
    assert response.status_code == 200, response.text
    return response.json()


def delete_point(api, point_id):
    response = api.delete("/api/v1/retail-point/%s" % point_id)
    assert response.status_code == 204, response.text


def issue_code(api, point_id):
    code = uuid.uuid4().hex[:12]
    edit_point(api, point_id, posLinkToken=code)
    return code


def activate(cabinet, code, serial):
    """Redeem ``code`` on register ``serial`` through the device API; returns the device credentials."""
    with httpx.Client(base_url=cabinet.url, timeout=10.0) as device:
        response = device.post("/api/device/v1/activate",
                               json={"code": code, "serial": serial, "model": "MSPOS-K", "appVersion": "1.0.0"})
    assert response.status_code == 200, response.text
    return response.json()["credentials"]


def release(cabinet, credentials, point_id):
    with httpx.Client(base_url=cabinet.url, auth=(credentials["login"], credentials["password"]),
                      timeout=10.0) as device:
        response = device.delete("/api/device/v1/bindings/%s" % point_id)
    assert response.status_code == 204, response.text


def change_stored_point(cabinet, point_id, change):
    """Change a point as the cabinet's own side would (what no client may set: health statuses, formatting).

    The emulator keeps each point as the JSON text its API returns, in SQLite (WAL mode, so another
    connection may write while it runs); ``change(body)`` edits that dict in place.
    """
    connection = sqlite3.connect(str(cabinet.data_dir / "cabinet.sqlite3"), timeout=10.0, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout=10000")
        row = connection.execute("SELECT body FROM points WHERE id = ?", (point_id,)).fetchone()
        assert row is not None, "no point %s in the emulator's database" % point_id
        body = json.loads(row[0])
        change(body)
        connection.execute("UPDATE points SET body = ? WHERE id = ?", (json.dumps(body, ensure_ascii=False), point_id))
    finally:
        connection.close()


def set_health(cabinet, point_id, kkt_status=None, registration_status=None):
    def change(body):
        if kkt_status is not None:
            body["kktStatus"] = kkt_status
        if registration_status is not None:
            body["registrationRequestStatus"] = registration_status
    change_stored_point(cabinet, point_id, change)


def of_point(events, point_id):
    return [e for e in events if e["modulkassa"].get("point", {}).get("id") == point_id]


def types(events):
    return [e["modulkassa"]["type"] for e in events]
