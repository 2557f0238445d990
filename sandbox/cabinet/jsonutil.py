"""JSON in and out, compact and strict."""

from __future__ import annotations

import json


def dump_text(value) -> str:
    # Compact separators: a list of 10,000 points is several MB and spaces would add about 10 %.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def dumps(value) -> bytes:
    return dump_text(value).encode("utf-8")


def _reject_constant(name):
    # json accepts NaN and Infinity by default; they are not JSON and no cabinet would take them.
    raise ValueError("%s is not valid JSON" % name)


def loads_strict(raw: bytes):
    """Parse a request body; raises ValueError on anything that is not one well-formed JSON value."""
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
