# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Progress lines during long steps (the polling loop beside them is module_utils/_polling.py).

AWX, ansible-runner and some CI runners drop a job whose output stays silent for about five minutes. A task that
waits for staff to type an activation code, or writes thousands of points, would be silent for that long: Ansible
prints a task's result only at its end. ``Progress`` prints a line at a steady interval from a background thread
while such a step runs (``MODULKASSA_PROGRESS_INTERVAL`` seconds, default 30, 0 turns it off).

How a line gets out of a worker: ansible-core runs the task in a forked worker process whose stdout is not the
job's. Its ``Display`` (2.16 and every later core) sends ``display()`` calls over the result queue to the
``ansible-playbook`` process, which prints them at once, between the task's header and its result; under AWX or
ansible-runner they become events of the job like any other output line. Lines name the host and the step, never a
value of a point, and go through the client's redaction: no secret can be in them.
"""

from __future__ import annotations

import math
import os
import threading
import time

from ansible.utils.display import Display

PROGRESS_INTERVAL_ENV = "MODULKASSA_PROGRESS_INTERVAL"
DEFAULT_PROGRESS_INTERVAL = 30.0

_display = Display()


def progress_interval(environ=None):
    """Seconds between progress lines, from ``MODULKASSA_PROGRESS_INTERVAL`` (0: none); the default if unset or bad."""
    raw = (os.environ if environ is None else environ).get(PROGRESS_INTERVAL_ENV)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return DEFAULT_PROGRESS_INTERVAL
    if not math.isfinite(value) or value < 0:
        return DEFAULT_PROGRESS_INTERVAL
    return value


class Progress(object):
    """``with Progress(host, describe):`` prints ``[host] modulkassa.pos: <describe(elapsed)>`` every interval.

    ``describe(elapsed_seconds)`` returns the line's text (it runs in the progress thread: read plain attributes
    only). ``redact`` scrubs the line (the cabinet client's ``redact``); ``stop()`` returning a reason ends the
    lines (the controller is gone: nobody reads them); ``say`` prints (``Display.display`` by default).
    """

    def __init__(self, host, describe, interval=None, redact=None, stop=None, say=None):
        self.host = host or "localhost"
        self.describe = describe
        self.interval = progress_interval() if interval is None else interval
        self.redact = redact
        self.stop = stop
        self.say = say or _display.display
        self.lines = 0
        self._started = time.monotonic()
        self._done = threading.Event()
        self._thread = None

    def elapsed(self):
        return time.monotonic() - self._started

    def __enter__(self):
        self._started = time.monotonic()
        if self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="modulkassa-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self):
        while not self._done.wait(self.interval):
            if self.stop is not None and self.stop():
                return
            try:
                line = "[%s] modulkassa.pos: %s" % (self.host, self.describe(self.elapsed()))
                if self.redact is not None:
                    line = self.redact(line)
                self.say(line)
                self.lines += 1
            except Exception:  # pylint: disable=broad-exception-caught
                # A progress line is a courtesy: it must never break the task it reports on.
                continue
