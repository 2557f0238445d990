# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet schema lives in one place (module_utils/_fleet_schema.py); docs/fleet.schema.json is a copy of it.

Regenerate the copy after changing the schema:
    .venv/bin/python tests/unit/plugins/module_utils/test_fleet_schema.py --write
"""

from __future__ import annotations

import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PUBLISHED = os.path.join(ROOT, "docs", "fleet.schema.json")

if __name__ == "__main__":  # run as a script: make the collection importable the way the unit tests do
    sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
    import conftest  # noqa: F401  pylint: disable=unused-import

import jsonschema  # noqa: E402
import pytest  # noqa: E402

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (  # noqa: E402
    FLEET_SCHEMA,
    POINT_KEYS,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import MANAGED_FIELDS  # noqa: E402


def rendered():
    return json.dumps(FLEET_SCHEMA, indent=2, ensure_ascii=False) + "\n"


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(FLEET_SCHEMA)
    assert FLEET_SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_published_copy_equals_the_collection_schema():
    with open(PUBLISHED, encoding="utf-8") as handle:
        text = handle.read()
    assert json.loads(text) == FLEET_SCHEMA, "docs/fleet.schema.json is stale: run %s --write" % os.path.relpath(__file__, ROOT)
    assert text == rendered(), "docs/fleet.schema.json is not in the canonical format: run %s --write" % os.path.relpath(__file__, ROOT)


def test_point_keys_are_the_retail_points_module_suboptions():
    from ansible_collections.modulkassa.pos.plugins.action.retail_points import ActionModule
    suboptions = ActionModule.argument_spec["points"]["options"]
    assert sorted(POINT_KEYS) == sorted(suboptions)
    assert sorted(FLEET_SCHEMA["$defs"]["point"]["properties"]) == sorted(POINT_KEYS)
    assert set(MANAGED_FIELDS) <= set(POINT_KEYS)


# The roles' cabinet settings are fleet variables: validated with their path, and known to the typo check.

def _problems(**controller):
    from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_inventory import validate_inventory
    controller.setdefault("modulkassa_points", [{"name": "Shop 1"}])
    errors, dummy = validate_inventory(controller, {})
    return dict((error.path, error.message) for error in errors)


@pytest.mark.parametrize("variable, value, message", [
    ("modulkassa_timeout", 0, "must be more than 0, not 0"),
    ("modulkassa_timeout", -1.5, "must be more than 0"),
    ("modulkassa_timeout", "5", "must be a number, not a string"),
    ("modulkassa_timeout", True, "must be a number"),
    ("modulkassa_retries", -1, "must be at least 0, not -1"),
    ("modulkassa_retries", 1.5, "must be an integer"),
    ("modulkassa_retries", "3", "must be an integer, not a string (write it without quotes)"),
    ("modulkassa_points_concurrency", 0, "must be at least 1, not 0"),
    ("modulkassa_points_concurrency", 65, "must be at most 64, not 65"),
    ("modulkassa_points_concurrency", [4], "must be an integer, not a list"),
])
def test_bad_cabinet_settings_are_reported_with_their_path(variable, value, message):
    problems = _problems(**{variable: value})
    assert list(problems) == [variable], problems
    assert message in problems[variable], problems[variable]


def test_good_cabinet_settings_pass():
    assert _problems(modulkassa_timeout=1, modulkassa_retries=0, modulkassa_points_concurrency=64) == {}
    assert _problems(modulkassa_timeout=2.5, modulkassa_retries=10, modulkassa_points_concurrency=1) == {}


@pytest.mark.parametrize("typo, meant", [
    ("modulkassa_timout", "modulkassa_timeout"),
    ("modulkassa_retry", None),  # three letters away: another tool's variable, perhaps
    ("modulkassa_retires", "modulkassa_retries"),
    ("modulkassa_point_concurrency", "modulkassa_points_concurrency"),
])
def test_the_typo_check_knows_the_cabinet_settings(typo, meant):
    problems = _problems(**{typo: 3})
    if meant is None:
        assert problems == {}
    else:
        assert problems == {typo: "unknown fleet variable (did you mean %r?)" % meant}


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        with open(PUBLISHED, "w", encoding="utf-8") as out:
            out.write(rendered())
        print("wrote %s" % PUBLISHED)
    else:
        sys.exit("usage: %s --write" % sys.argv[0])
