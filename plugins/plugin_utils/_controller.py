# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Is the controller still there? A task's worker must not go on changing the estate for a run that is gone.

ansible-core runs each task in a worker process forked from ``ansible-playbook``. From 2.19 the worker calls
``setsid()``, so a CI cancel or an AWX job cancel that kills ``ansible-playbook``'s process group does not reach it:
the worker goes on, issuing codes and writing to the cabinet for a run nobody waits for (measured: writes for 20 s
after the kill). When its parent dies, the kernel re-parents the worker, and ``os.getppid()`` changes. The
plugins check that before every cabinet write (the client's write guard), every agent command that changes a
register, and every round of a wait, and stop with a clear error.
"""

from __future__ import annotations

import multiprocessing
import os

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import WritesStopped


def _controller_pid():
    """The pid of the process this worker was forked from (multiprocessing records it at the fork, so it is right
    even when the controller died before the task started), or None outside a worker (nothing to watch)."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None and parent.pid else None


class ControllerWatch(object):
    """Made when a task starts in its worker; ``gone()`` tells, cheaply (one syscall), whether the controller died."""

    def __init__(self):
        self.controller_pid = _controller_pid()

    def gone(self):
        """None while the controller runs (or outside a worker), else the reason to stop (no secret: pids only)."""
        if self.controller_pid is None:
            return None
        parent = os.getppid()
        if parent == self.controller_pid:
            return None
        return ("the controller (ansible-playbook, pid %d) is gone: this worker was re-parented to pid %d, so the run "
                "was cancelled or killed; stopping before any further change (the next run converges the rest)"
                % (self.controller_pid, parent))

    def check(self, what):
        """Raise ``WritesStopped`` naming ``what`` would have been done, once the controller is gone."""
        reason = self.gone()
        if reason:
            raise WritesStopped("%s not done: %s" % (what, reason))
