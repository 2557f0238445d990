# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The YAML text of an export (plugin_utils/_fleet_export_render.py): every value reads back, through Ansible's own
loader, as the string the cabinet holds; comments never break a line; the same data gives the same bytes."""

from __future__ import annotations

import random
import uuid

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_export import export_fleet
from ansible_collections.modulkassa.pos.plugins.plugin_utils._fleet_export_render import (
    CABINET_FILE,
    FILES,
    POINTS_FILE,
    REGISTERS_FILE,
    REGISTERS_VARS_FILE,
    comment_text,
    render_fleet,
    scalar,
    url_without_credentials,
)

LOGIN = "ops@chain.example"
URL = "https://my.modulkassa.example"

TRICKY = [
    "yes", "No", "TRUE", "off", "y", "n", "null", "~", "", " ", "123", "0123", "1e3", "0x1F", "12:30", "1_000", ".5",
    "-", "- тире", "? q", ": c", "#1 касса", "касса #1", "Склад: приёмка", "a:b", "'single'", '"double"',
    "«Василёк»", "back\\slash", "[1, 2]", "{a: b}", "&anchor", "*alias", "!tag", "|", ">", "%", "@", "`",
    "Акция {{ скидка }}", "{% raw %}", "{# c #}", "Кофе ☕ 🍩", "tab\there", "nbsp\u00a0here", "line\u2028sep",
    "para\u2029sep", "nel\x85", "bom\ufeff", "trailing ", " leading", "=", "<<", "Ünïcödé", "ИП Сафина А. Р.",
]


def _ansible_load(text):
    return DataLoader().load(text)


def _plain(value):
    """A value as plain Python (Ansible's loader hands back tagged str subclasses)."""
    if isinstance(value, dict):
        return dict((str(k), _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@pytest.mark.parametrize("text", TRICKY)
def test_every_tricky_string_reads_back_as_itself(text):
    document = "value: %s\n" % scalar(text)
    assert _plain(_ansible_load(document))["value"] == text
    assert yaml.safe_load(document.replace("!unsafe ", ""))["value"] == text


@given(st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_any_string_reads_back_as_itself(text):
    document = "a:\n  - name: %s\n    inn: %s\n" % (scalar(text), scalar(text, force_quotes=True))
    loaded = _plain(yaml.safe_load(document.replace("!unsafe ", "")))
    assert loaded == {"a": [{"name": text, "inn": text}]}


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_a_comment_is_always_one_line(text):
    line = comment_text(text)
    assert not any(char in line for char in "\n\r\x85\u2028\u2029")
    assert yaml.safe_load("# %s\nk: v\n" % line) == {"k": "v"}


def test_strings_with_jinja_markers_are_never_templated():
    assert scalar("Акция {{ скидка }}") == '!unsafe "Акция {{ скидка }}"'
    assert scalar("Магазин 1") == "Магазин 1"
    assert scalar("7707083893", force_quotes=True) == '"7707083893"'
    assert scalar(True) == "true" and scalar(1113) == "1113"


def test_the_url_in_the_comment_carries_no_credentials():
    assert url_without_credentials("https://user:secret@cabinet.example:8443/base?x=1#f") == "https://cabinet.example:8443/base"
    assert url_without_credentials("https://my.modulkassa.ru") == "https://my.modulkassa.ru"


def _account():
    points = []
    for index, name in enumerate(TRICKY):
        if not name.strip():
            continue
        point = {"id": str(uuid.UUID(int=index + 1)), "name": name, "inn": "7707083893", "phone": "9123456789",
                 "settings": {"defaultTaxMode": "SIMPLIFIED", "defaultVatTag": 1109, "egaisSettings": {"kpp": "773601001"}},
                 "kktStatus": "KKT_NOT_PLUGGED", "kkmInfo": None, "posLinkToken": None}
        if index % 4 == 0:
            point.update(kktStatus="REGISTERED", kkmInfo={"serialNumber": ["SN-1", "ЗН 7/8", "00042", "yes"][index % 16 // 4]})
        points.append(point)
    return points


def test_the_rendered_inventory_reads_back_as_the_exported_data():
    points = _account()
    fleet = export_fleet(points, LOGIN)
    texts = render_fleet(fleet, URL, LOGIN)
    assert list(texts) == list(FILES)
    for text in texts.values():
        assert text.startswith("---\n") and text.endswith("\n") and "\r" not in text
    loaded = _plain(_ansible_load(texts[POINTS_FILE]))
    assert loaded["modulkassa_points_purge"] is False
    assert loaded["modulkassa_points"] == [dict(item["entry"]) for item in fleet["points"]]
    names = [p["name"] for p in loaded["modulkassa_points"] if "name" in p]
    # Canonical names (surrounding spaces go); a name with control characters is refused, its point is declared by id.
    refused = ["tab\there", "line\u2028sep", "para\u2029sep", "bom\ufeff"]
    assert sorted(names) == sorted(p["name"].strip() for p in points if p["name"] not in refused)
    id_only = [p for p in loaded["modulkassa_points"] if "name" not in p]
    assert sorted(p["id"] for p in id_only) == sorted(p["id"] for p in points if p["name"] in refused)

    registers = _plain(_ansible_load(texts[REGISTERS_FILE]))["all"]["children"]["registers"]["hosts"]
    assert list(registers) == [r["host"] for r in fleet["registers"]]
    for register in fleet["registers"]:
        host = registers[register["host"]]
        assert host == {"modulkassa_register_serial": register["serial"], "modulkassa_register_points": register["points"]}
    assert _plain(_ansible_load(texts[REGISTERS_VARS_FILE])) == {"modulkassa_registers_via": "cabinet"}
    assert _plain(_ansible_load(texts[CABINET_FILE])) == {}


def test_identical_data_gives_identical_bytes_whatever_the_order():
    points = _account()
    first = render_fleet(export_fleet(points, LOGIN), URL, LOGIN)
    random.Random(3).shuffle(points)
    assert render_fleet(export_fleet(points, LOGIN), URL, LOGIN) == first


def test_quoting_as_docs_fleet_md_asks():
    point = {"id": str(uuid.uuid4()), "name": "Магазин", "inn": "0274062111", "phone": "9123456789",
             "settings": {"egaisSettings": {"kpp": "027401001"}, "defaultTaxMode": "COMMON", "defaultVatTag": 1113}}
    text = render_fleet(export_fleet([point], LOGIN), URL, LOGIN)[POINTS_FILE]
    assert '    inn: "0274062111"\n' in text and '    kpp: "027401001"\n' in text
    assert '    phone: "9123456789"\n' in text and '    id: "%s"\n' % point["id"] in text
    assert "    tax_mode: COMMON\n" in text and "    vat: VAT_22\n" in text and "1113" not in text


def test_empty_account():
    texts = render_fleet(export_fleet([], LOGIN), URL, LOGIN)
    assert _plain(_ansible_load(texts[POINTS_FILE])) == {"modulkassa_points_purge": False, "modulkassa_points": []}
    assert _plain(_ansible_load(texts[REGISTERS_FILE])) == {"all": {"children": {"registers": {"hosts": {}}}}}


def test_comments_are_wrapped_and_values_are_not():
    long_name = "Очень длинное название точки " * 8
    point = {"id": str(uuid.uuid4()), "name": long_name.strip(), "fullAddress": {"address": long_name}}
    text = render_fleet(export_fleet([point], LOGIN), URL, LOGIN)[POINTS_FILE]
    comment_lines = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert comment_lines and max(len(line) for line in comment_lines) <= 118
    assert "  - name: %s\n" % long_name.strip() in text
