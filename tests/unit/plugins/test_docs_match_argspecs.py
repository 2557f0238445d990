# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module files carry only documentation; the action plugins carry the argument specs.

validate-modules cannot compare the two for docs-only modules, so this test does: every option, its type,
default, choices, required-ness, no_log and suboptions must agree, fragments included.
"""

from __future__ import annotations

import importlib
import json
import os

import pytest
import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils import _version

ACTION_PLUGINS = ["retail_point", "retail_points", "retail_point_info", "register", "register_info", "fleet_validate",
                  "fleet_export", "bindings_audit"]
CABINET_GROUP = ["retail_point", "retail_points", "retail_point_info", "register", "fleet_export", "bindings_audit"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _fragment(name):
    module = importlib.import_module("ansible_collections.modulkassa.pos.plugins.doc_fragments.cabinet")
    return yaml.safe_load(getattr(module.ModuleDocFragment, name))


def _documented_options(plugin):
    module = importlib.import_module("ansible_collections.modulkassa.pos.plugins.modules.%s" % plugin)
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options", {}))
    for fragment in doc.get("extends_documentation_fragment", []):
        if fragment == "modulkassa.pos.cabinet":
            options.update(_fragment("DOCUMENTATION")["options"])
        elif fragment == "modulkassa.pos.cabinet.point_attributes":
            options.update(_fragment("POINT_ATTRIBUTES")["options"])
    return options


def _compare(spec, docs, path):
    assert sorted(spec) == sorted(docs), "%s: options in spec and docs differ" % path
    for name, option in spec.items():
        doc = docs[name]
        where = "%s.%s" % (path, name)
        assert option.get("type", "str") == doc.get("type", "str"), where
        assert option.get("required", False) == doc.get("required", False), where
        default = option.get("default")
        assert default == doc.get("default"), where
        assert option.get("choices") == doc.get("choices"), where
        if option.get("type") == "list":
            assert option.get("elements") == doc.get("elements"), where
        if "options" in option:
            _compare(option["options"], doc["suboptions"], where)


@pytest.mark.parametrize("plugin", ACTION_PLUGINS)
def test_action_argspec_matches_module_docs(plugin):
    action = importlib.import_module("ansible_collections.modulkassa.pos.plugins.action.%s" % plugin)
    _compare(action.ActionModule.argument_spec, _documented_options(plugin), plugin)


def test_password_is_no_log():
    from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import CABINET_ARGSPEC
    assert CABINET_ARGSPEC["cabinet_password"]["no_log"] is True


def test_version_matches_galaxy_yml():
    # A checkout has galaxy.yml; a collection installed from its tarball (the 2.16 run) has MANIFEST.json instead.
    if os.path.exists(os.path.join(ROOT, "galaxy.yml")):
        with open(os.path.join(ROOT, "galaxy.yml")) as handle:
            version = yaml.safe_load(handle)["version"]
    else:
        with open(os.path.join(ROOT, "MANIFEST.json")) as handle:
            version = json.load(handle)["collection_info"]["version"]
    assert version == _version.COLLECTION_VERSION


def test_every_cabinet_action_is_in_the_action_group():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        group = yaml.safe_load(handle)["action_groups"]["cabinet"]
    assert sorted(group) == sorted(CABINET_GROUP)
