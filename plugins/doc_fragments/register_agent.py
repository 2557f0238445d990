# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):
    # The option of the plugins that run the register agent on the register host (register, register_info).
    DOCUMENTATION = r"""
options:
  agent_path:
    description:
      - Path of the register agent on the host.
      - If not set, the C(modulkassa_agent_path) host variable is used, then V(modulkassa-agent) from the PATH.
    type: str
"""
