# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The options of the plugins that write and take part in saved plans (retail_points, register).
    DOCUMENTATION = r"""
options:
  saved_plan:
    description:
      - Path of a saved plan (C(tools/modulkassa-plan --out), format in the collection's C(docs/gitops.md)) to apply
        instead of whatever the data and the cabinet say now. The task re-plans its objects from what it reads (one
        list of the cabinet for the points, the agent's status for a register) and makes only the plan's writes.
      - The task fails, before any write, when the plan was made for another account or collection version, or
        when an object the plan writes moved since (its fingerprint differs); the result's RV(stale) names them.
      - What the plan does not write is not guarded and not touched, even if it drifted since (decision D41).
    type: path
  record_plan:
    description:
      - Return the plan entries in RV(plan) (for C(tools/modulkassa-plan)'s saved plan and applied record).
    type: bool
    default: false
"""
