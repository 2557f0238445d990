# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain data, and the names of its types, for every check of the collection.

Ansible hands plugins its own subclasses of the plain types: tagged values from ansible-core 2.19 (every string and
container carries its origin), ``AnsibleUnicode``/``AnsibleUnsafeText`` and friends before. ``plain`` turns them into
``dict``/``list``/``str``/``int``/``float``/``bool``/``None``, which the argument spec copies fast and YAML/JSON
dumpers outside Ansible can write. ``json_type`` names a value's type as JSON Schema does; the messages of the client
(an answer's type), the fleet validator and the argument checks (a value the user wrote) all say it through
``type_phrase``.
"""

from __future__ import annotations

import json

# JSON Schema's type names, and how a message names a value of each: the user writes YAML (a list, a mapping).
_PHRASES = {
    "null": "null",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
}
# How a message names the type a value should have had ("must be true or false").
_EXPECTED_PHRASES = dict(_PHRASES, boolean="true or false")


def plain(value):
    """``value`` as plain Python data; anything that is not JSON data (a date, a set, an object) is kept as it is.

    The fast path is a JSON round trip (C code: 10,000 declared points in milliseconds, where a deep copy of tagged
    objects takes seconds); data JSON cannot carry takes the element-wise path."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return _plain(value)


def _plain(value):
    if isinstance(value, dict):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def json_type(value):
    """JSON Schema's name of the type of ``value`` (``object``, ``array``, ``integer``...); else the Python type's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def type_phrase(value):
    """How a message names the type of ``value``: ``a mapping``, ``an integer``, ``null``..."""
    kind = json_type(value)
    return _PHRASES.get(kind, "a " + kind)


def expected_phrase(kind):
    """How a message names the JSON Schema type ``kind`` a value must have: ``a list``, ``true or false``..."""
    return _EXPECTED_PHRASES.get(kind, kind)
