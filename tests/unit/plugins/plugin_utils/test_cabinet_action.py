# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plain (the action base applies it to the task's arguments): tagged arguments become plain data before validation (bench/: 10,000 points)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import plain as plain_arguments

try:
    from ansible._internal._datatag._tags import Origin  # data tagging: ansible-core 2.19+
except ImportError:  # 2.16-2.18: strings arrive as AnsibleUnicode (from YAML) or AnsibleUnsafeText (from facts)
    Origin = None

needs_tags = pytest.mark.skipif(Origin is None, reason="data tagging exists from ansible-core 2.19")
before_tags = pytest.mark.skipif(Origin is not None, reason="the pre-2.19 value types")


def _types(value):
    if isinstance(value, dict):
        return [type(value)] + [t for v in value.values() for t in _types(v)]
    if isinstance(value, list):
        return [type(value)] + [t for v in value for t in _types(v)]
    return [type(value)]


@needs_tags
def test_tagged_values_become_plain_equal_data():
    point = {"name": Origin(path="/x.yml").tag("Shop 1"), "vat_tag": 1102, "fiscal_service_enabled": True, "kpp": None}
    tagged = Origin(path="/inventory/group_vars/all.yml", line_num=3).tag({
        "points": [Origin(path="/x.yml").tag(point)],
        "purge": False, "concurrency": 8,
    })
    assert any(t.__module__.startswith("ansible") for t in _types(tagged))  # the premise: Ansible's own types
    plain = plain_arguments(tagged)
    assert plain == tagged
    assert set(_types(plain)) <= {dict, list, str, int, bool, type(None)}


def test_values_json_cannot_carry_keep_the_original_path():
    args = {"when": datetime.date(2026, 11, 24), "name": "Shop 1"}
    plain = plain_arguments(args)
    assert plain == args and plain["when"] is args["when"]


@before_tags
def test_pre_219_value_types_become_plain_equal_data():
    """The fast path degrades cleanly before 2.19: the types those cores hand plugins become plain data too."""
    from ansible.parsing.yaml.objects import AnsibleMapping, AnsibleSequence, AnsibleUnicode
    from ansible.utils.unsafe_proxy import AnsibleUnsafeText

    args = AnsibleMapping({AnsibleUnicode("points"): AnsibleSequence([AnsibleMapping({
        AnsibleUnicode("name"): AnsibleUnicode("Shop 1"), "address": AnsibleUnsafeText("Москва, {{ not templated }}"),
        "vat_tag": 1102, "kpp": None})]), "purge": False})
    assert any(t.__module__.startswith("ansible") for t in _types(args))  # the premise: Ansible's own types
    plain = plain_arguments(args)
    assert plain == args
    assert set(_types(plain)) <= {dict, list, str, int, bool, type(None)}
