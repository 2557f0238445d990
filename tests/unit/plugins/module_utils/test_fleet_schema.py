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


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        with open(PUBLISHED, "w", encoding="utf-8") as out:
            out.write(rendered())
        print("wrote %s" % PUBLISHED)
    else:
        sys.exit("usage: %s --write" % sys.argv[0])
