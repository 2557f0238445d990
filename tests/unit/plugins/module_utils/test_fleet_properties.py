# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property: the fleet validator never raises, whatever the inventory holds; it only reports.

Generated fleets have the fleet's shape (points, registers, registers without SSH), and any position may hold
an arbitrary YAML value instead (null, booleans, numbers, NaN, dates, binary, text, lists, mappings with
non-string keys, alias bombs of up to a billion leaves) or a variable whose template failed. Every problem must come back as a ``FleetError`` with a
path, and data the validator accepts must be accepted by the module path too (``normalize_specs``): the two
cannot disagree.
"""

from __future__ import annotations

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    CODE_FILE_VAR,
    MANUAL_REGISTERS_VAR,
    POINT_KEYS,
    POINTS_VAR,
    PURGE_VAR,
    REGISTER_POINTS_VAR,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import normalize_specs
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_inventory import Unrenderable, validate_inventory
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import FleetError, validate_fleet

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["Shop 1", "shop 1", " Shop  1 ", "SHOP 1", "Kazan 5", "Магазин «Центр»", "МАГАЗИН «ЦЕНТР»", "Straße 3",
         "STRASSE 3", "", "   ", "Moscow\n1"]
IDS = ["0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a", "0B1E6CBA-3F7E-5D59-9C1F-4A5EF07F1C3A",
       "3769574b-d082-4c9e-9d4f-1b6a5d3e2f10", "42"]

# What a YAML loader can produce (SafeLoader and Ansible's): scalars of every tag, and nested collections.
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(NAMES + IDS), st.binary(max_size=8), st.dates(),
    st.datetimes(max_value=datetime.datetime(3000, 1, 1)),
)


def _alias_bomb(depth, width, leaf):
    """What a YAML loader makes of ``depth`` levels of ``width`` aliases each: one shared object per level."""
    node = leaf
    for dummy in range(depth):
        node = [node] * width
    return node


# Shared data well under the size limit (copied like any data), or far over it, up to a billion laughs (measured
# without being expanded, whatever position it is drawn in). Sizes near the limit would only make the test slow.
alias_bombs = st.builds(lambda shape, leaf: _alias_bomb(shape[0], shape[1], leaf),
                        st.sampled_from([(1, 3), (2, 5), (3, 10), (7, 10), (8, 8), (9, 10)]), _scalars)
yaml_values = st.recursive(
    st.one_of(_scalars, alias_bombs),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none(),
                                  st.sampled_from(POINT_KEYS)), children, max_size=4),
    ),
    max_leaves=12,
)


def _or_anything(strategy):
    """The intended value most of the time, an arbitrary one otherwise."""
    return st.one_of(strategy, strategy, yaml_values)


_POINT_VALUES = {
    "name": st.sampled_from(NAMES),
    "id": st.sampled_from(IDS),
    "state": st.sampled_from(["present", "absent", "ABSENT"]),
    "address": st.sampled_from(["Moscow", "", "  "]),
    "phone": st.sampled_from(["+7 495 123-45-67", "12", ""]),
    "inn": st.sampled_from(["7707083893", "500100732259", "7707083894", "", "0274062111"]),
    "kpp": st.sampled_from(["773601001", "77360100", ""]),
    "tax_mode": st.sampled_from(["COMMON", "PATENT", "common"]),
    "vat_tag": st.sampled_from([1102, 1105, 1113, 20]),
    "vat": st.sampled_from(["VAT_22", "NO_VAT", "vat_22", "22%"]),
    "fiscal_service_enabled": st.booleans(),
}


@st.composite
def points(draw):
    spec = {}
    for key in draw(st.sets(st.sampled_from(POINT_KEYS), min_size=0, max_size=6)):
        spec[key] = draw(_or_anything(_POINT_VALUES[key]))
    if draw(st.integers(0, 9)) == 0:
        spec[draw(st.text(max_size=8))] = draw(yaml_values)  # an unknown key
    return spec


_references = st.lists(_or_anything(st.sampled_from(NAMES + IDS)), max_size=4)


@st.composite
def fleets(draw):
    document = {POINTS_VAR: draw(_or_anything(st.lists(_or_anything(points()), max_size=6)))}
    if draw(st.booleans()):
        document[PURGE_VAR] = draw(_or_anything(st.booleans()))
    if draw(st.booleans()):
        manual = st.fixed_dictionaries({"name": _or_anything(st.sampled_from(["kiosk-1", "KIOSK-1", " "])),
                                        "retail_points": _or_anything(_references)})
        document[MANUAL_REGISTERS_VAR] = draw(_or_anything(st.lists(_or_anything(manual), max_size=3)))
    if draw(st.booleans()):
        document[CODE_FILE_VAR] = draw(_or_anything(st.sampled_from(["/secure/codes.json", "codes.json"])))
    hosts = st.dictionaries(st.sampled_from(["reg01", "reg02", "pos-1.example.com", "3"]),
                            _or_anything(st.fixed_dictionaries({REGISTER_POINTS_VAR: _or_anything(_references)})),
                            max_size=3)
    document["hosts"] = draw(_or_anything(hosts))
    return document


def _assert_reports_only(errors, summary):
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error, FleetError)
        assert isinstance(error.path, str) and error.path
        assert isinstance(error.message, str) and error.message
        assert set(error.as_dict()) == {"path", "message"}
    assert isinstance(summary, dict)
    for label in summary.get("points_without_register", []):
        assert isinstance(label, str) and label


@SETTINGS
@given(document=fleets())
def test_validate_fleet_never_raises_and_agrees_with_the_module(document):
    errors, summary = validate_fleet(document)
    _assert_reports_only(errors, summary)
    if not errors:
        # What the validator accepts, retail_points accepts as well (the same list, unchanged by the role).
        normalize_specs(document[POINTS_VAR], POINTS_VAR)


@SETTINGS
@given(document=fleets())
def test_what_the_module_refuses_the_validator_reports(document):
    if not isinstance(document[POINTS_VAR], list):
        return
    try:
        normalize_specs(document[POINTS_VAR], POINTS_VAR)
    except PointInputError:
        errors, dummy = validate_fleet(document)
        assert any(error.path.startswith(POINTS_VAR) for error in errors), errors


@SETTINGS
@given(document=fleets(), anything=yaml_values, broken=st.sets(st.sampled_from([POINTS_VAR, PURGE_VAR, "hosts"])))
def test_validate_inventory_never_raises(document, anything, broken):
    hosts = document.pop("hosts")
    controller = dict(document)
    controller["modulkassa_points_purg"] = anything  # a typo of a fleet variable
    for name in broken:
        if name != "hosts":
            controller[name] = Unrenderable("'x' is undefined")
    registers = {}
    if isinstance(hosts, dict):
        for host, variables in hosts.items():
            host = str(host)  # inventory host names and variable names are strings
            registers[host] = dict(controller)
            if isinstance(variables, dict):
                registers[host].update((str(name), value) for name, value in variables.items())
            if "hosts" in broken:
                registers[host][REGISTER_POINTS_VAR] = Unrenderable("'y' is undefined")
    others = {"spare": {REGISTER_POINTS_VAR: anything}}
    _assert_reports_only(*validate_inventory(controller, registers, others))


@SETTINGS
@given(value=yaml_values)
def test_any_value_as_the_whole_document_or_a_point_is_reported(value):
    _assert_reports_only(*validate_fleet(value))
    _assert_reports_only(*validate_fleet({POINTS_VAR: [value], "hosts": {}}))
    _assert_reports_only(*validate_fleet({POINTS_VAR: [{"name": value}, {"name": "Shop 2"}],
                                          "hosts": {"reg01": {REGISTER_POINTS_VAR: [value]}}}))
