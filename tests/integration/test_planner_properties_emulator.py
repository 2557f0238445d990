# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property (issue 6), a few examples against the real emulator: random desired and actual sets of points; plan
then apply (the collection's planner and cabinet client, over HTTP) makes the cabinet equal the declaration, and
planning again yields nothing. The many-example run is tests/unit/.../test_point_planner_properties.py.

Each example works on points named with a fresh tag, and the planner sees only those, so purge stays inside them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(HERE, "..", "unit")


def _load_unit_import_path():
    """tests/unit/conftest.py makes ``ansible_collections.modulkassa.pos`` importable; reuse it, not a copy."""
    spec = importlib.util.spec_from_file_location("mk_unit_conftest", os.path.join(UNIT, "conftest.py"))
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


_load_unit_import_path()
sys.path.insert(0, os.path.join(UNIT, "plugins", "module_utils"))
sys.path.insert(0, HERE)

from point_properties import actual_points, assert_converged, converge, desired_points, fresh_tag  # noqa: E402
from reliability_helpers import DEMO  # noqa: E402

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import CabinetClient  # noqa: E402
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError  # noqa: E402
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import (  # noqa: E402
    PurgeRefused,
    normalize_specs,
    plan_points,
)

DIGIT_KPPS = ("773601001", "500101001", "")  # the emulator accepts digits only in a KPP


def _tagged(tag, items):
    return [dict(item, name="%s %s" % (tag, item["name"])) for item in items]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(desired=desired_points(DIGIT_KPPS), actual=actual_points(DIGIT_KPPS), purge=st.booleans())
def test_plan_then_apply_against_the_emulator(cabinet, desired, actual, purge):
    tag = fresh_tag()
    desired, actual = _tagged(tag, desired), _tagged(tag, actual)
    with CabinetClient(cabinet.url, DEMO[0], DEMO[1], retries=0, timeout=10) as client:
        for point in actual:
            body = dict((key, value) for key, value in point.items() if key not in ("posLinkToken", "kktStatus", "kkmInfo"))
            body["id"] = str(uuid.uuid4())  # hypothesis replays its uuids; the emulator keeps every id it saw
            legacy = len(body.get("inn") or "") == 10 and not (body["settings"].get("egaisSettings") or {}).get("kpp")
            if legacy:  # a legal entity without a KPP: made before the cabinet required one (the API refuses it now)
                body["settings"] = dict(body["settings"], egaisSettings={"kpp": DIGIT_KPPS[0]})
            client.create_point(body)
            if legacy:
                cabinet.strip_kpp(body["id"])

        def listed():
            return [p for p in client.list_points() if p["name"].startswith(tag + " ")]

        before = listed()
        assert len(before) == len(actual)
        # A contradiction, or a purge from a list that declares no point (the purge guards): refused, nothing written.
        if isinstance(converge(client, desired, purge, actual=before, login=DEMO[0]), (PointInputError, PurgeRefused)):
            assert listed() == before, "a refused declaration wrote something"
            return
        after = listed()
        assert_converged(desired, purge, before, after)
        again = plan_points(normalize_specs(desired), after, DEMO[0], purge=purge)
        assert [c for c in again if c.changed] == [], [(c.name, c.action, c.fields) for c in again if c.changed]
