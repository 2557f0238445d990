# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Argument specs shared by the collection's plugins.

The connection options are documented once in the ``modulkassa.pos.cabinet`` doc fragment and the point
attributes in ``modulkassa.pos.cabinet.point_attributes``; the point attributes' specs come from the field table
(``_point_fields.FIELDS``), and a unit test keeps these specs and the docs equal.
"""

from __future__ import annotations

import copy

from ansible.module_utils.basic import env_fallback

from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import ATTRIBUTE_OPTIONS, FIELDS_BY_NAME

# AWX and CI inject credentials as environment variables, hence the env fallbacks.
CABINET_ARGSPEC = {
    "cabinet_url": {"type": "str", "required": True, "fallback": (env_fallback, ["MODULKASSA_URL"])},
    "cabinet_login": {"type": "str", "required": True, "fallback": (env_fallback, ["MODULKASSA_LOGIN"])},
    "cabinet_password": {"type": "str", "required": True, "no_log": True, "fallback": (env_fallback, ["MODULKASSA_PASSWORD"])},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path", "fallback": (env_fallback, ["MODULKASSA_CA_PATH"])},
    "timeout": {"type": "float", "default": 30.0},
    "retries": {"type": "int", "default": 3},
}

POINT_ATTRIBUTES_ARGSPEC = dict((name, FIELDS_BY_NAME[name].argspec) for name in ATTRIBUTE_OPTIONS)


def with_cabinet_options(spec):
    """A plugin's own options plus the shared connection options (deep copies: specs are mutated by validators)."""
    merged = copy.deepcopy(CABINET_ARGSPEC)
    merged.update(copy.deepcopy(spec))
    return merged


def point_attributes():
    return copy.deepcopy(POINT_ATTRIBUTES_ARGSPEC)
