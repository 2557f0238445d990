# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tax table is the one copy: every row sourced, the model, the docs and the emulator agree with it."""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils import _tax_data
from ansible_collections.modulkassa.pos.plugins.module_utils._argspec import point_attributes
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import FLEET_SCHEMA
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PointInputError, canonical_desired
from ansible_collections.modulkassa.pos.plugins.module_utils._tax_data import (
    ABOLISHED_TAX_MODES,
    SUPPORTED_VAT_TAGS,
    TAX_MODES,
    TAX_MODES_TABLE,
    VAT_NAMES,
    VAT_RATES,
    vat_name_for,
    vat_tag_for,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _emulator_validation():
    """sandbox/cabinet/validation.py as a file (the emulator never imports the collection, nor we the emulator's package)."""
    path = os.path.join(ROOT, "sandbox", "cabinet", "validation.py")
    if not os.path.exists(path):  # the installed tarball (the 2.16 run) ships no emulator; the checkout's run has it
        pytest.skip("the emulator is not part of the installed collection")
    spec = importlib.util.spec_from_file_location("emulator_validation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_row_names_its_public_source():
    for row in VAT_RATES + TAX_MODES_TABLE:
        assert row["source"].strip(), row
        assert "github.com/modulkassa/" in row["source"], row  # the vendor's own published code or docs
    for row in VAT_RATES:
        assert row["rate"] and row["note"], row
        if row["tag"] is not None:
            assert str(row["tag"]) in row["source"], row  # the source quoted says this very number


def test_names_and_tags_are_unique_and_the_current_rates_are_there():
    assert len(set(VAT_NAMES)) == len(VAT_NAMES)
    tags = [row["tag"] for row in VAT_RATES if row["tag"] is not None]
    assert len(set(tags)) == len(tags) and tuple(sorted(tags)) == SUPPORTED_VAT_TAGS
    for name in ("VAT_22", "VAT_22_122", "VAT_5", "VAT_7", "VAT_5_105", "VAT_7_107", "VAT_20", "NO_VAT"):
        assert name in VAT_NAMES
    assert 1108 not in SUPPORTED_VAT_TAGS  # the vendor's list skips it: nothing may be sent that nobody published


@pytest.mark.parametrize("name,tag", [("VAT_22", 1113), ("VAT_22_122", 1114), ("VAT_20", 1102), ("VAT_20_120", 1106),
                                      ("VAT_10", 1103), ("VAT_10_110", 1107), ("VAT_0", 1104), ("NO_VAT", 1105),
                                      ("VAT_5", 1109), ("VAT_7", 1110), ("VAT_5_105", 1111), ("VAT_7_107", 1112)])
def test_name_and_tag_map_both_ways(name, tag):
    assert vat_tag_for(name) == tag
    assert vat_name_for(tag) == name


def test_unknown_values_are_none():
    assert vat_tag_for("VAT_18") is None
    assert vat_name_for(1108) is None


def test_a_rate_without_a_published_tag_is_refused_with_the_reason(monkeypatch):
    # No current rate lacks a source; the mechanism is what a new rate gets until the vendor publishes its number.
    row = {"name": "VAT_99", "tag": None, "rate": "99 %", "note": "no public source gives the cabinet's number yet",
           "source": "github.com/modulkassa/example"}
    monkeypatch.setitem(_tax_data._BY_NAME, "VAT_99", row)
    with pytest.raises(PointInputError) as err:
        canonical_desired({"name": "A", "vat": "VAT_99"}, "points[4].")
    assert err.value.path == "points[4].vat"
    assert "VAT_99 (99 %) is not yet supported: no public source gives the cabinet's number yet" in str(err.value)


def test_envd_is_the_one_abolished_mode_and_says_since_when():
    assert list(ABOLISHED_TAX_MODES) == ["ENVD"]
    assert "1 January 2021" in ABOLISHED_TAX_MODES["ENVD"]
    assert TAX_MODES[-1] == "ENVD"  # listed last: accepted only for points that already have it


def test_argspec_and_fleet_schema_take_their_choices_from_the_table():
    spec = point_attributes()
    assert spec["vat"]["choices"] == list(VAT_NAMES)
    assert spec["vat_tag"]["choices"] == list(SUPPORTED_VAT_TAGS)
    assert spec["tax_mode"]["choices"] == list(TAX_MODES)
    properties = FLEET_SCHEMA["$defs"]["point"]["properties"]
    assert properties["vat"]["enum"] == list(VAT_NAMES)
    assert properties["vat_tag"]["enum"] == list(SUPPORTED_VAT_TAGS)
    assert properties["tax_mode"]["enum"] == list(TAX_MODES)


def test_the_emulator_accepts_the_same_table():
    validation = _emulator_validation()
    assert sorted(validation.VAT_TAGS) == list(SUPPORTED_VAT_TAGS)
    assert sorted(validation.TAX_MODES) == sorted(TAX_MODES)  # ENVD too: old points exist; the collection refuses new ones


def test_docs_list_every_row_with_its_source():
    with open(os.path.join(ROOT, "docs", "fleet.md"), encoding="utf-8") as handle:
        text = handle.read()
    section = re.split(r"\n##+ ", text.split("### Tax data", 1)[1], maxsplit=1)[0]
    rows = dict((m.group(1), m.group(2)) for m in re.finditer(r"^\| `(\w+)` \| (`\d+`|not yet supported) \|", section, re.M))
    assert rows == dict((row["name"], "`%d`" % row["tag"] if row["tag"] else "not yet supported") for row in VAT_RATES)
    for row in VAT_RATES:
        line = [line for line in section.splitlines() if line.startswith("| `%s` |" % row["name"])][0]
        assert ("VatTag.kt" in row["source"]) == ("VatTag.kt" in line), row["name"]
        assert ("fn/index.html" in row["source"]) == ("fn/index.html" in line), row["name"]
