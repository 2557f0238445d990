# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The expanded size of YAML data, measured without expanding it, and where it guards the collection's inputs."""

from __future__ import annotations

import signal

import pytest
import yaml

from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import (
    MAX_TEXT,
    MAX_VALUES,
    DataTooLarge,
    SizeBudget,
    check_expanded_size,
    expanded_size,
)
from ansible_collections.modulkassa.pos.plugins.plugin_utils._cabinet_action import oversized_argument
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import validate_fleet

# Nine levels of ten aliases: about 1 KB of YAML, a billion strings once expanded.
BOMB = "\n".join(['l0: &l0 "lol lol lol lol lol"'] + [
    "l%d: &l%d [%s]" % (level, level, ", ".join(["*l%d" % (level - 1)] * 10)) for level in range(1, 10)])


@pytest.fixture
def bounded():
    """A bound that an expansion (minutes) breaks and a loaded machine does not (the measurement takes ms)."""
    def expired(signum, frame):
        raise AssertionError("still measuring after 20 s: the data is being expanded")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _fleet_points(count):
    """``count`` fully specified points, as a chain declares them (bench/lib.py's shape)."""
    return [{"name": "Chain shop %05d" % index, "address": "Moscow, Tverskaya street %d" % index,
             "phone": "+7 (495) 000-%02d-%02d" % (index // 100 % 100, index % 100), "inn": "7707083893",
             "kpp": "773601001", "tax_mode": "COMMON", "vat_tag": 1102, "fiscal_service_enabled": index % 3 == 0}
            for index in range(count)]


def test_an_alias_bomb_is_measured_without_being_expanded(bounded):
    data = yaml.safe_load(BOMB)
    values, characters = expanded_size(data["l9"])
    assert values > MAX_VALUES or characters > MAX_TEXT
    with pytest.raises(DataTooLarge) as err:
        check_expanded_size("modulkassa_points", [{"name": "Shop 1", "address": data["l9"]}])
    assert str(err.value).startswith("modulkassa_points: is too large: more than 500,000 values once its YAML aliases")


def test_shared_references_count_once_per_reference_as_a_copy_would():
    shared = ["ab", "cd"]
    assert expanded_size(shared) == (3, 4)
    assert expanded_size([shared, shared, shared]) == (10, 12)
    assert expanded_size({"key": shared}) == (5, 7)  # keys are text too


def test_data_that_contains_itself_has_no_finite_size():
    data = yaml.safe_load("a: &a [1, *a]")
    assert expanded_size(data) == (float("inf"), float("inf"))
    with pytest.raises(DataTooLarge) as err:
        check_expanded_size("modulkassa_points", data)
    assert "refers to itself" in str(err.value)


def test_a_fleet_of_10000_points_passes_with_room_to_spare():
    values, characters = expanded_size(_fleet_points(10000))
    assert values * 2.5 < MAX_VALUES and characters * 10 < MAX_TEXT
    longest = [dict(point, name="N" * 255, address="A" * 1000) for point in _fleet_points(10000)]
    check_expanded_size("modulkassa_points", longest)  # every name and address at its maximum length


def test_one_huge_string_is_too_large_text():
    with pytest.raises(DataTooLarge) as err:
        check_expanded_size("points", [{"name": "x" * (MAX_TEXT + 1)}])
    assert "MiB of text" in str(err.value)


def test_a_budget_adds_values_up_across_variables():
    budget = SizeBudget(max_values=10, max_text=100)
    budget.spend("hosts.reg01.modulkassa_register_points", ["a", "b", "c"])
    budget.spend("hosts.reg02.modulkassa_register_points", ["a", "b", "c"])
    with pytest.raises(DataTooLarge) as err:
        budget.spend("hosts.reg03.modulkassa_register_points", ["a", "b", "c"])
    assert err.value.path == "hosts.reg03.modulkassa_register_points"
    assert "together with the variables before it" in err.value.rule


def test_the_validator_names_the_variable_of_the_bomb(bounded):
    data = yaml.safe_load(BOMB)
    document = {"modulkassa_points": [{"name": "Shop 1"}],
                "hosts": {"reg01": {"modulkassa_register_points": data["l9"]}}}
    errors, dummy = validate_fleet(document)
    assert [(e.path, "is too large" in e.message) for e in errors] == [("hosts.reg01.modulkassa_register_points", True)]
    errors, dummy = validate_fleet({"modulkassa_points": [{"name": "Shop 1", "address": data["l9"]}], "hosts": {}})
    assert [e.path for e in errors] == ["modulkassa_points"]


def test_the_cabinet_plugins_refuse_oversized_arguments_before_copying_them(bounded):
    data = yaml.safe_load(BOMB)
    assert oversized_argument({"points": [{"name": "A"}], "purge": True}) is None
    option, rule = oversized_argument({"purge": True, "points": [{"name": "A", "address": data["l9"]}]})
    assert option == "points" and rule.startswith("is too large")
