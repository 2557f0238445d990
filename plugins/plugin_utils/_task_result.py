# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The parts of the task result a callback receives, on every supported ansible-core (2.16 to the newest)."""

from __future__ import annotations


def unpack_task_result(result):
    """``(task, host, result dict)`` of the ``TaskResult`` handed to a callback's ``v2_runner_on_*`` method.

    ansible-core 2.19 gave it public ``task``, ``host`` and ``result`` attributes (and deprecates the private
    names for 2.23); 2.16 to 2.18 have only ``_task``, ``_host`` and ``_result``. Reading the wrong name raises
    AttributeError, which those cores turn into a callback warning and carry on: a report that silently misses
    every task says "no drift" while changes are pending.
    """
    try:
        return result.task, result.host, result.result
    except AttributeError:
        # pylint: disable-next=protected-access
        return result._task, result._host, result._result
