# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""point_index / point_ids: the registers role's name-to-id resolution, done once per play; point_id_refs: the ids
among references, for the retail_points role."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.modulkassa.pos.plugins.filter.points import FilterModule, point_id_refs, point_ids, point_index

ID_1 = "0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a"
ID_2 = "3769574b-d082-4c9e-9d4f-1b6a5d3e2f10"
ID_3 = "6f1d3c52-9a8e-5b7e-8c41-2d0f6a1e9b73"
ID_4 = "11111111-2222-4333-8444-555555555555"


def test_index_by_trimmed_name_with_ambiguous_names_mapped_to_none():
    points = [{"id": ID_1, "name": " Moscow 1 "}, {"id": ID_2, "name": "Twin"}, {"id": ID_3, "name": "Twin"},
              {"name": "no id"}, "junk"]
    assert point_index(points) == {"Moscow 1": ID_1, "Twin": None}
    assert point_ids(["Twin"], point_index(points)) == ["Twin"]


def test_names_equal_after_folding_resolve_as_the_register_plugin_resolves_them():
    index = point_index([{"id": ID_1, "name": "Moscow 1"}, {"id": ID_2, "name": "Kazan 5"}, {"id": ID_3, "name": "kazan  5"}])
    assert index == {"Moscow 1": ID_1, "Kazan 5": None, "kazan  5": None}  # one name, two points
    assert point_ids(["moscow  1", " MOSCOW 1", "Moscow 1"], index) == [ID_1, ID_1, ID_1]
    # The register plugin gets the name and refuses it, naming both ids.
    assert point_ids(["Kazan 5", "KAZAN 5"], index) == ["Kazan 5", "KAZAN 5"]


def test_names_become_ids_and_everything_else_passes_through():
    index = {"Moscow 1": ID_1}
    assert point_ids([" Moscow 1", ID_4, "Not yet created", "Twin"], index) == [ID_1, ID_4, "Not yet created", "Twin"]


def test_a_name_that_looks_like_an_id_is_not_looked_up():
    assert point_ids([ID_2], {ID_2: ID_1}) == [ID_2]


def test_point_id_refs_keeps_the_ids_in_the_cabinets_lower_case_and_drops_names():
    refs = ["Moscow 1", " %s " % ID_1.upper(), ID_2, "%s-0" % ID_3, ID_3[:-1], "not-an-id"]
    assert point_id_refs(refs) == [ID_1, ID_2]


@pytest.mark.parametrize("call", [lambda: point_index("points"), lambda: point_ids("Moscow 1", {}),
                                  lambda: point_ids(["Moscow 1"], []), lambda: point_id_refs(ID_1)])
def test_wrong_input_types_fail_clearly(call):
    with pytest.raises(AnsibleFilterError):
        call()


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["point_id_refs", "point_ids", "point_index"]
