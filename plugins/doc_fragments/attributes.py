# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # What every plugin of this collection shares: it is an action plugin on the controller (the module file only
    # carries the docs), without async or a bypassed host loop, with check mode and diff mode unless it says
    # otherwise. The descriptions are ansible.builtin.action_common_attributes' (and its .flow fragment's); each
    # module adds the details of its check_mode and diff_mode (a module's own keys win over a fragment's).
    DOCUMENTATION = r"""
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller
    support: full
  async:
    description: Supports being used with the C(async) keyword
    support: none
  bypass_host_loop:
    description:
      - Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
        throttle and other loop considerations
      - Conditionals will work as if C(run_once) is being used, variables used will be from the first available host
      - This action will not work normally outside of lockstep strategies
    support: none
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target, if not supported the action will be skipped.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode
    support: full
  platform:
    description: Target OS/families that can be operated against
    support: N/A
    platforms: posix
"""

    # Plugins that only read: check mode changes nothing about them, and there is no diff. List it BEFORE
    # modulkassa.pos.attributes: of two fragments setting one key, the first listed wins.
    READ_ONLY = r"""
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
"""
