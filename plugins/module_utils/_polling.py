# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one polling loop every wait of the collection uses (a binding showing in the cabinet, a code redeemed).

Pure (no Ansible import): the binding apply in module_utils waits with it, and so do the action plugins.
"""

from __future__ import annotations

import time

# The polling back-off: the first check at once, then 0.2 s doubling to 5 s. A binding shows in the cabinet at the
# first or second read; a wait for staff (minutes) costs one read per 5 s.
POLL_FIRST_DELAY = 0.2
POLL_MAX_DELAY = 5.0
POLL_FACTOR = 2.0


def poll(fetch, done, timeout, check=None, first_delay=POLL_FIRST_DELAY, max_delay=POLL_MAX_DELAY, sleep=time.sleep):
    """Call ``fetch()`` until ``done(value)`` or ``timeout`` seconds passed; returns ``(value, finished)``.

    The first call is at once; then the delay grows from ``first_delay`` by a factor of 2 up to ``max_delay``, never
    past the deadline. ``check()`` runs before every round and may raise to end the wait (the controller is gone).
    """
    deadline = time.monotonic() + timeout
    delay = first_delay
    while True:
        if check is not None:
            check()
        value = fetch()
        if done(value):
            return value, True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return value, False
        sleep(min(delay, remaining))
        delay = min(delay * POLL_FACTOR, max_delay)
