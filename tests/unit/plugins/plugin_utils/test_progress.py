# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The progress lines, the shared polling loop, and the controller watch."""

from __future__ import annotations

import os
import threading
import time

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import WritesStopped
from ansible_collections.modulkassa.pos.plugins.module_utils._polling import poll
from ansible_collections.modulkassa.pos.plugins.plugin_utils import _controller
from ansible_collections.modulkassa.pos.plugins.plugin_utils._progress import (
    DEFAULT_PROGRESS_INTERVAL,
    Progress,
    progress_interval,
)


@pytest.mark.parametrize("raw, expected", [
    (None, DEFAULT_PROGRESS_INTERVAL), ("", DEFAULT_PROGRESS_INTERVAL), ("abc", DEFAULT_PROGRESS_INTERVAL),
    ("-1", DEFAULT_PROGRESS_INTERVAL), ("nan", DEFAULT_PROGRESS_INTERVAL), ("inf", DEFAULT_PROGRESS_INTERVAL),
    ("0", 0.0), ("0.5", 0.5), ("120", 120.0),
])
def test_progress_interval_from_the_environment(raw, expected):
    environ = {} if raw is None else {"MODULKASSA_PROGRESS_INTERVAL": raw}
    assert progress_interval(environ) == expected


def test_progress_prints_at_the_interval_while_the_step_runs_and_redacts():
    lines = []
    with Progress("reg01", lambda elapsed: "waiting, secret 12345678 (%.0f s)" % elapsed, interval=0.05,
                  redact=lambda text: text.replace("12345678", "********"), say=lines.append) as progress:
        time.sleep(0.3)
    count = len(lines)
    time.sleep(0.15)
    assert count >= 3 and len(lines) == count, "lines went on after the step ended"
    assert all(line.startswith("[reg01] modulkassa.pos: waiting, secret ******** (") for line in lines)
    assert progress.lines == count


def test_progress_stops_when_told_and_never_breaks_the_step():
    lines, stop = [], threading.Event()

    def describe(elapsed):
        if not lines:
            lines.append("first")
            raise RuntimeError("a broken description")
        return "ok"

    with Progress("h", describe, interval=0.03, stop=lambda: "gone" if stop.is_set() else None, say=lines.append):
        time.sleep(0.15)
        stop.set()
        seen = len(lines)
        time.sleep(0.15)
    assert lines[0] == "first" and "[h] modulkassa.pos: ok" in lines and len(lines) <= seen + 1
    with Progress("h", lambda e: "x", interval=0, say=lines.append) as progress:
        time.sleep(0.05)
    assert progress.lines == 0


def test_poll_checks_at_once_backs_off_and_times_out():
    sleeps, values = [], iter(range(100))
    value, finished = poll(lambda: next(values), lambda v: v == 0, 10, sleep=sleeps.append)
    assert (value, finished, sleeps) == (0, True, [])
    clock = [0.0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "monotonic", lambda: clock[0])
        value, finished = poll(lambda: "pending", lambda v: False, 12, sleep=sleep)
    assert (value, finished) == ("pending", False)
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 0.8])  # doubling to 5 s, never past the deadline


def test_poll_check_ends_the_wait():
    def check():
        raise WritesStopped("the controller is gone")

    with pytest.raises(WritesStopped):
        poll(lambda: 1, lambda v: False, 10, check=check, sleep=lambda s: None)


def test_controller_watch_sees_the_worker_re_parented(monkeypatch):
    class Parent(object):
        pid = 4242

    monkeypatch.setattr(_controller.multiprocessing, "parent_process", Parent)
    monkeypatch.setattr(_controller.os, "getppid", lambda: 4242)
    watch = _controller.ControllerWatch()
    assert watch.gone() is None
    watch.check("a write")
    monkeypatch.setattr(_controller.os, "getppid", lambda: 1)
    assert "ansible-playbook, pid 4242" in watch.gone() and "re-parented to pid 1" in watch.gone()
    with pytest.raises(WritesStopped, match="activation of retail point 'x' not done"):
        watch.check("activation of retail point 'x'")


def test_controller_watch_outside_a_worker_watches_nothing(monkeypatch):
    monkeypatch.setattr(_controller.multiprocessing, "parent_process", lambda: None)
    watch = _controller.ControllerWatch()
    monkeypatch.setattr(_controller.os, "getppid", lambda: os.getpid() + 1)
    assert watch.gone() is None
