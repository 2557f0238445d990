# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""modulkassa.pos.cabinet_changes: an ansible-rulebook event source that watches a ModulKassa cabinet.

ansible-rulebook loads this file with ``runpy.run_path`` and awaits ``main(queue, args)``. The logic lives in
the collection's ``plugins/module_utils/_cabinet_watch.py``; this file is the asyncio loop around it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading

DOCUMENTATION = r"""
---
short_description: Emit an event for every change of the retail points in a ModulKassa cabinet.
description:
  - An ansible-rulebook event source plugin that polls the cabinet's list of retail points at an interval
    (one request per poll) and emits one event per change seen since the previous poll - a point created,
    deleted or edited (which managed fields, before and after), activated on or released by a register (by its
    serial number), or its health changed (C(kktStatus), C(registrationRequestStatus)).
  - The first poll establishes the baseline and emits nothing. With O(state_file), a restart compares with the
    last saved snapshot instead, so changes made while the source was stopped are emitted once and older ones
    never.
  - A poll that fails (after the client's retries) emits nothing about points; the first failure of a streak
    emits one C(poll_failed) event, the first success after it one C(poll_recovered).
  - No event carries a password, an activation code (C(posLinkToken)) or device credentials.
  - The event shape is documented in the collection's C(docs/eda.md).
version_added: 0.1.0
author:
  - modulkassa.pos developers
requirements:
  - ansible-core and httpx in the Python environment of ansible-rulebook (the source uses the collection's
    cabinet client, which imports C(ansible.module_utils)).
  - The modulkassa.pos collection installed on the collections path that ansible-rulebook searches.
options:
  cabinet_url:
    description:
      - Base URL of the cabinet, without the C(/api/v1) part, for example V(https://my.modulkassa.ru).
      - If not set, the E(MODULKASSA_URL) environment variable of ansible-rulebook is used.
    type: str
    required: true
  cabinet_login:
    description:
      - Login (e-mail) of the cabinet account to watch. Events carry it as C(account).
      - If not set, the E(MODULKASSA_LOGIN) environment variable is used.
    type: str
    required: true
  cabinet_password:
    description:
      - Password of the account. Prefer the environment variable E(MODULKASSA_PASSWORD), used when this is not
        set; it never appears in events, logs or error messages.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the cabinet's TLS certificate. Use O(ca_path) for a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (or a directory of hashed CA certificates) to verify the cabinet's certificate with.
      - If not set, the E(MODULKASSA_CA_PATH) environment variable is used, then the system trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for the cabinet to connect, send or answer, per request.
    type: float
    default: 30
  retries:
    description:
      - How many times a failed list request is retried (HTTP 429, HTTP 5xx, network errors) within one poll,
        with jittered exponential backoff that honours C(Retry-After).
    type: int
    default: 3
  interval:
    description:
      - Seconds from the end of one poll to the start of the next.
    type: float
    default: 60
  state_file:
    description:
      - A JSON file keeping the last snapshot (the managed fields, register serial and health of every point;
        no secret), written with mode 0600 after each poll that saw a change. Its directory must exist.
      - Without it, every start is a new baseline and changes made while the source was stopped are not emitted.
    type: path
"""

EXAMPLES = r"""
- name: Watch the cabinet
  hosts: all
  sources:
    - modulkassa.pos.cabinet_changes:
        # cabinet_url, cabinet_login and cabinet_password from MODULKASSA_URL, MODULKASSA_LOGIN, MODULKASSA_PASSWORD
        interval: 60
        state_file: /var/lib/eda/modulkassa-demo.json
  rules:
    - name: A point was edited by hand
      condition: event.modulkassa.type == "point_edited"
      action:
        debug:
          msg: "{{ event.modulkassa.point.name }}: {{ event.modulkassa.changes }}"
"""

LOGGER = logging.getLogger("modulkassa.pos.cabinet_changes")

_WATCH_MODULE = "ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_watch"
# Where this file sits in an installed collection: <root>/ansible_collections/modulkassa/pos/<these>.
_PATH_IN_COLLECTION = ("extensions", "eda", "plugins", "event_source")


def _collections_root(path):
    """The directory holding ``ansible_collections`` for this file's collection, or None if not inside one."""
    directory = os.path.dirname(os.path.abspath(path))  # not realpath: the collection may be a symlink
    for expected in reversed(("ansible_collections", "modulkassa", "pos") + _PATH_IN_COLLECTION):
        directory, name = os.path.split(directory)
        if name != expected:
            return None
    return directory


def _import_watch():
    """The collection's ``_cabinet_watch``, importable once the collections root of this file is on sys.path.

    ansible-rulebook finds the source on the collections path but runs it as a plain file, outside Ansible's
    collection loader: ``ansible_collections.modulkassa.pos`` is importable only with that root on sys.path.
    The copy this file belongs to goes first, so the source and its logic always come from the same release.
    """
    root = _collections_root(__file__)
    if root is not None and root not in sys.path:
        sys.path.insert(0, root)
        importlib.invalidate_caches()
    try:
        return importlib.import_module(_WATCH_MODULE)
    except ImportError as exc:
        raise ImportError(
            "modulkassa.pos.cabinet_changes cannot import the collection's code (%s). Install the modulkassa.pos "
            "collection on a collections path ansible-rulebook searches, and run ansible-rulebook in a Python "
            "environment that has ansible-core and httpx." % exc) from exc


async def _in_thread(func, *args):
    """``func(*args)`` in a daemon thread, awaited.

    The cabinet client is synchronous. A daemon thread (not the loop's default executor, whose threads the
    interpreter joins at exit) lets ansible-rulebook shut down at once even while a poll is waiting out a
    timeout or a Retry-After; that poll's answer is dropped.
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(result, error):
        if not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    def run():
        try:
            outcome = (func(*args), None)
        except BaseException as exc:  # pylint: disable=broad-exception-caught  # handed to the awaiting task
            outcome = (None, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the loop is gone: nobody waits for this poll any more

    threading.Thread(target=run, name="cabinet_changes-poll", daemon=True).start()
    return await future


async def main(queue: asyncio.Queue, args: dict) -> None:
    """Poll the cabinet every ``interval`` seconds and put one event per change on ``queue``."""
    watch = _import_watch()
    settings = watch.settings_from_args(args)
    client = watch.open_client(settings, warn=LOGGER.warning)
    watcher = watch.CabinetWatch(client, settings.cabinet_login, state_file=settings.state_file, log=LOGGER)
    try:
        while True:
            events, snapshot = await _in_thread(watcher.poll)
            for event in events:
                await queue.put(event)
            await _in_thread(watcher.accept, snapshot)  # after the events are queued: see CabinetWatch
            await asyncio.sleep(settings.interval)
    finally:
        watcher.close()


if __name__ == "__main__":
    # Run by hand (credentials from MODULKASSA_*): print the events instead of queueing them.

    class _PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(item)  # noqa: T201

    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(_PrintQueue(), {"interval": 10}))
