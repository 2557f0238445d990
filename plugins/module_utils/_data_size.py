# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How big a value is once YAML aliases are expanded, found without expanding it.

YAML lets one anchored node be referred to many times (``&a`` ... ``*a``); a loader hands the aliases over as
references to one shared object. Nine levels of ten aliases ("billion laughs") make a 1 KB file whose data has
a billion leaves: anything that copies it (templating, a JSON round trip, jsonschema's error paths, the argument
spec's deep copy) runs for minutes and takes gigabytes. ``expanded_size`` measures what the copy *would* be:
each distinct container is measured once (memoised by object identity), and the walk stops as soon as a limit
is passed, so its cost is bounded by the limit whatever the input.

The limits (docs/fleet.md "Size limit"): a fleet of 10,000 fully specified points is about 165,000 values and
1.5 million characters of text (13.6 million with every name and address at its maximum length); the limits
leave about three and two times that.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_VALUES = 500000
MAX_TEXT = 32 * 1024 * 1024  # characters of all strings (keys included)


class DataTooLarge(ValueError):
    """A value that is too large once expanded. ``str()`` is the complete message for ``where``."""

    def __init__(self, where, rule):
        self.path = where
        self.rule = rule
        super(DataTooLarge, self).__init__("%s: %s" % (where, rule))


class _Exceeded(Exception):
    pass


class _SelfReference(Exception):
    pass


def expanded_size(value, max_values=MAX_VALUES, max_text=MAX_TEXT):
    """``(values, characters)`` of ``value`` with every alias expanded, as a copy would have them.

    Stops early, with counts above a limit, once either is passed. A container that contains itself (YAML can
    express that too) has no finite expansion: both counts are infinite."""
    memo = {}  # id(container) -> (values, characters); the containers stay alive in ``value`` meanwhile
    active = set()
    totals = [0, 0]  # an upper bound of what was counted so far: bail out as soon as it passes a limit

    def add(values, characters):
        totals[0] += values
        totals[1] += characters
        if totals[0] > max_values or totals[1] > max_text:
            raise _Exceeded()

    def walk(node):
        if isinstance(node, str):
            add(1, len(node))
            return 1, len(node)
        if isinstance(node, (bytes, bytearray)):
            add(1, len(node))
            return 1, len(node)
        if not isinstance(node, (Mapping, list, tuple, set, frozenset)):
            add(1, 0)
            return 1, 0
        key = id(node)
        if key in memo:
            values, characters = memo[key]
            add(values, characters)  # a shared node costs its full size again in the expanded copy
            return values, characters
        if key in active:
            raise _SelfReference()
        active.add(key)
        before = tuple(totals)
        add(1, 0)
        items = node.items() if isinstance(node, Mapping) else ((None, item) for item in node)
        for item_key, item in items:
            if item_key is not None:
                walk(item_key)
            walk(item)
        active.discard(key)
        memo[key] = (totals[0] - before[0], totals[1] - before[1])
        return memo[key]

    try:
        walk(value)
    except _SelfReference:
        return float("inf"), float("inf")
    except _Exceeded:
        pass  # the totals passed a limit: the caller needs no more than that
    return totals[0], totals[1]


def _too_large(values, characters, max_values, max_text):
    """The rule a value of this expanded size breaks, or None."""
    if values == float("inf"):
        return "refers to itself (a YAML alias inside its own anchor): it has no finite expansion"
    if values > max_values:
        return ("is too large: more than %s values once its YAML aliases are expanded (the limit; a fleet of 10,000 "
                "points has about 165,000)" % format(max_values, ","))
    if characters > max_text:
        return ("is too large: more than %d MiB of text once its YAML aliases are expanded (the limit; a fleet of "
                "10,000 points has about 1.5)" % (max_text // (1024 * 1024)))
    return None


def check_expanded_size(where, value, max_values=MAX_VALUES, max_text=MAX_TEXT):
    """Raise ``DataTooLarge`` naming ``where`` (a variable, an option, a file) when ``value`` is too large."""
    rule = _too_large(*expanded_size(value, max_values, max_text), max_values=max_values, max_text=max_text)
    if rule:
        raise DataTooLarge(where, rule)


class SizeBudget(object):
    """The limits for several values together (the variables of one fleet): each value must pass them alone,
    and all of them together too, so that one alias shared by a thousand host variables cannot add up."""

    def __init__(self, max_values=MAX_VALUES, max_text=MAX_TEXT):
        self.max_values, self.max_text = max_values, max_text
        self.values = self.text = 0

    def spend(self, where, value):
        """Count ``value`` (found at ``where``); raise ``DataTooLarge`` naming ``where`` when a limit is passed."""
        values, characters = expanded_size(value, self.max_values, self.max_text)
        rule = _too_large(values, characters, self.max_values, self.max_text)
        if rule:
            raise DataTooLarge(where, rule)
        self.values += values
        self.text += characters
        if self.values > self.max_values or self.text > self.max_text:
            raise DataTooLarge(where, "is too large together with the variables before it: the fleet data has more than "
                                      "%s values or %d MiB of text in all once YAML aliases are expanded (the limit)"
                               % (format(self.max_values, ","), self.max_text // (1024 * 1024)))
