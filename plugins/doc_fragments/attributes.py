# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # What every plugin of this collection shares: it is an action plugin on the controller (the module file only
    # carries the docs), without async or a bypassed host loop. The descriptions of these attributes come from
    # ansible.builtin.action_common_attributes and its .flow fragment; each module adds check_mode and diff_mode.
    ACTION_PLUGIN = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
"""

    # Members of the modulkassa.pos.cabinet action group (module_defaults: group/modulkassa.pos.cabinet).
    CABINET_GROUP = r"""
attributes:
  action_group:
    membership: [modulkassa.pos.cabinet]
"""
