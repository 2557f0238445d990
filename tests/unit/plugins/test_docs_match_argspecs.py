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


def _fragment(name, fragment_module="cabinet"):
    module = importlib.import_module("ansible_collections.modulkassa.pos.plugins.doc_fragments.%s" % fragment_module)
    return yaml.safe_load(getattr(module.ModuleDocFragment, name))


def _documented_options(plugin):
    """The module's options with those of its fragments (``modulkassa.pos.<file>[.<variable>]``), as ansible-doc
    merges them."""
    module = importlib.import_module("ansible_collections.modulkassa.pos.plugins.modules.%s" % plugin)
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options", {}))
    for fragment in doc.get("extends_documentation_fragment", []):
        if not fragment.startswith("modulkassa.pos."):
            continue  # ansible-core's fragments add attributes, no option
        parts = fragment.split(".")[2:]  # after modulkassa.pos
        variable = parts[1].upper() if len(parts) > 1 else "DOCUMENTATION"
        options.update(_fragment(variable, parts[0]).get("options") or {})
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


# The point attributes: one table (module_utils/_point_fields.py); the static docs must say what it says.

def test_the_point_attributes_fragment_documents_the_field_table():
    from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import ATTRIBUTE_OPTIONS, FIELDS_BY_NAME
    docs = _fragment("POINT_ATTRIBUTES")["options"]
    assert list(docs) == list(ATTRIBUTE_OPTIONS), "the fragment lists the table's attributes in the table's order"
    _compare(dict((name, FIELDS_BY_NAME[name].argspec) for name in ATTRIBUTE_OPTIONS), docs, "point_attributes")
    for name in ATTRIBUTE_OPTIONS:
        path = FIELDS_BY_NAME[name].api_path
        if path and len(path) > 1:  # a setting nested in the cabinet's JSON is named where it is documented
            assert "C(%s)" % ".".join(path) in " ".join(docs[name]["description"]), name


def test_the_retail_points_role_documents_the_field_table():
    from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import FIELDS
    with open(os.path.join(ROOT, "roles", "retail_points", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    points = options["retail_points_points"]["options"]
    assert sorted(points) == sorted(["id", "state"] + [field.name for field in FIELDS])
    for field in FIELDS:
        doc = points[field.name]
        assert doc.get("type", "str") == field.argspec["type"], field.name
        assert doc.get("choices") == field.argspec.get("choices"), field.name


def test_the_fleet_schema_checks_each_field_with_its_json_type():
    from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import FLEET_SCHEMA
    from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import json_type
    from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import FIELDS
    properties = FLEET_SCHEMA["$defs"]["point"]["properties"]
    for field in FIELDS:
        prop = properties[field.name]
        assert prop.get("type") == field.json_type, field.name
        if "enum" in prop:
            assert prop["enum"] == field.argspec["choices"], field.name
            assert all(json_type(value) == {"str": "string", "int": "integer"}[field.argspec["type"]] for value in prop["enum"])
