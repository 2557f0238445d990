# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two roles read the same fleet variables for the cabinet connection, in the same way.

Each role's ``vars/main.yml`` maps the fleet's ``modulkassa_*`` variables to the plugins' options (only those that
are set); Ansible roles cannot share a vars file, so this test keeps the two mappings equal, and checks that every
option they set is a connection option of the plugins and every fleet setting is in the roles' argument specs.
"""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import CABINET_ARGSPEC
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    PURGE_EXCLUDE_VAR,
    PURGE_MAX_VAR,
    RETRIES_VAR,
    TIMEOUT_VAR,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PURGE_MAX_DEFAULT

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLES = ("retail_points", "registers")


def _load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_both_roles_map_the_same_variables_to_the_same_options():
    mappings = [_load(role, "vars", "main.yml")["%s_cabinet_options" % role] for role in ROLES]
    assert mappings[0] == mappings[1]
    pairs = re.findall(r"'(\w+)': (modulkassa_\w+) \| default\(none\)", mappings[0])
    assert pairs and set(option for option, dummy in pairs) == set(CABINET_ARGSPEC)
    assert (dict(pairs)["timeout"], dict(pairs)["retries"]) == (TIMEOUT_VAR, RETRIES_VAR)


def test_the_cabinet_settings_are_in_both_argument_specs():
    for role in ROLES:
        options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
        assert options[TIMEOUT_VAR]["type"] == "float" and options[RETRIES_VAR]["type"] == "int", role


def test_the_retail_points_role_passes_the_purge_guards_with_the_plugins_default():
    """The role's default of purge_max is written out (a role default cannot import it): it must be the plugin's."""
    defaults = _load("retail_points", "defaults", "main.yml")
    assert defaults["retail_points_purge_max"] == "{{ %s | default(%d) }}" % (PURGE_MAX_VAR, PURGE_MAX_DEFAULT)
    assert defaults["retail_points_purge_exclude"] == "{{ %s | default([]) }}" % PURGE_EXCLUDE_VAR
    task = _load("retail_points", "tasks", "main.yml")[0]["block"][0]["block"][0]["modulkassa.pos.retail_points"]
    assert (task["purge_exclude"], task["purge_max"]) == ("{{ retail_points_purge_exclude }}",
                                                          "{{ retail_points_purge_max }}")
    options = _load("retail_points", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert options["retail_points_purge_max"]["type"] == "int"
    assert "V(%d)" % PURGE_MAX_DEFAULT in " ".join(options["retail_points_purge_max"]["description"])
    assert (options["retail_points_purge_exclude"]["type"], options["retail_points_purge_exclude"]["elements"]) == (
        "list", "str")
