# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet data as the inventory gives it: the checks that only make sense there, then ``validate_fleet``.

``validate_inventory(controller, registers, others)`` takes the ``modulkassa_*`` variables as the inventory gives
them (the controller's, each register host's, other hosts') and adds: misspelt fleet variables, register hosts that
see a different value of a controller variable (their group overrides group_vars/all: the controller would never
converge it), register variables on hosts outside the registers group. It then builds the fleet document and
calls ``_fleet_validation.validate_fleet``. Pure: the action plugin (``fleet_validate``) renders the variables and
passes plain values, or ``Unrenderable`` where a template failed.
"""

from __future__ import annotations

import json

from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import DataTooLarge, SizeBudget
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    CONTROLLER_VARIABLES,
    FLEET_WIDE_REGISTER_VARIABLES,
    OTHER_KNOWN_VARIABLES,
    REGISTER_SERIAL_VAR,
    REGISTER_VARIABLES,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_validation import FleetError, format_path, sort_key, validate_fleet
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import plain

FLEET_VARIABLES = CONTROLLER_VARIABLES + REGISTER_VARIABLES


class Unrenderable(object):
    """A variable whose template failed (an undefined variable in it, a syntax error): reported, not raised."""

    def __init__(self, message):
        self.message = message

    def __eq__(self, other):
        return isinstance(other, Unrenderable) and other.message == self.message

    def __hash__(self):
        return hash(self.message)


class TooLarge(Unrenderable):
    """A variable too large once its YAML aliases are expanded (``_data_size``): reported with its own message,
    never templated nor copied (either would expand it)."""


def _edit_distance(a, b, limit=2):
    """Levenshtein distance, or ``limit + 1`` as soon as it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def misspelt_fleet_variable(name):
    """The fleet variable ``name`` is probably a typo of, or None. Far-off ``modulkassa_*`` names are left
    alone: they may belong to other tools (a drift report, an inventory plugin)."""
    if not name.startswith("modulkassa_") or name in FLEET_VARIABLES or name in OTHER_KNOWN_VARIABLES:
        return None
    for candidate in FLEET_VARIABLES:
        if _edit_distance(name, candidate) <= 2:
            return candidate
    return None


def _sized(controller, registers, others):
    """The three views with every value too large once expanded replaced by ``TooLarge`` (``_data_size``).

    A register's value that *is* the controller's (group_vars/all, seen by every host) is counted once."""
    budget = SizeBudget()

    def sized(parts, value):
        if isinstance(value, Unrenderable):
            return value
        try:
            budget.spend(format_path(parts), value)
        except DataTooLarge as exc:
            return TooLarge(exc.rule)
        return value

    controller_sized = dict((name, sized((name,), value)) for name, value in controller.items())

    def host_view(host, variables):
        return dict((name, controller_sized[name] if name in controller and value is controller[name]
                     else sized(("hosts", host, name), value)) for name, value in variables.items())

    return (controller_sized, dict((host, host_view(host, variables)) for host, variables in registers.items()),
            dict((host, host_view(host, variables)) for host, variables in others.items()))


def validate_inventory(controller, registers, others=None):
    """Check the ``modulkassa_*`` variables as the inventory gives them; returns ``(errors, summary)``.

    ``controller``: ``{name: value}`` seen by the controller (localhost). ``registers``: ``{host: {name: value}}``
    for the hosts of the registers group. ``others``: the same for other hosts (only their register variables
    matter). Values that failed to template are ``Unrenderable``; values too large once their YAML aliases are
    expanded are ``TooLarge``, or become it here, before anything below compares or copies them.
    """
    errors = []
    document = {}
    controller, registers, others = _sized(controller, registers, others or {})

    def take(parts, name, value, into):
        if isinstance(value, TooLarge):
            errors.append(FleetError(parts + (name,), value.message))
        elif isinstance(value, Unrenderable):
            errors.append(FleetError(parts + (name,), "cannot be evaluated: %s" % value.message))
        else:
            into[name] = value

    for name in sorted(controller):
        suggestion = misspelt_fleet_variable(name)
        if suggestion:
            errors.append(FleetError((name,), "unknown fleet variable (did you mean %r?)" % suggestion))
        elif name in CONTROLLER_VARIABLES or name in FLEET_WIDE_REGISTER_VARIABLES:
            take((), name, controller[name], document)
        elif name in REGISTER_VARIABLES:
            errors.append(FleetError((name,), "is a register host's variable, but the controller sees it too (set in "
                                     "group_vars/all?): set it in host_vars or in the group_vars of register groups, so a "
                                     "register whose points were forgotten fails validation instead of being emptied"))

    hosts = document["hosts"] = {}
    differing = {}  # (variable, rendered value) -> hosts that see that value instead of the controller's
    for host in sorted(registers):
        variables = registers[host]
        entry = hosts[host] = {}
        for name in sorted(variables):
            suggestion = misspelt_fleet_variable(name)
            if suggestion and name in controller and plain(variables[name]) == plain(controller[name]):
                continue  # group_vars/all: reported once, for the controller
            if suggestion:
                errors.append(FleetError(("hosts", host, name), "unknown fleet variable (did you mean %r?)" % suggestion))
            elif name in REGISTER_VARIABLES:
                take(("hosts", host), name, variables[name], entry)
            elif name in CONTROLLER_VARIABLES and (name not in controller or plain(variables[name]) != plain(controller[name])):
                key = (name, json.dumps(plain(variables[name]), sort_keys=True, default=repr))
                differing.setdefault(key, []).append(host)
    for (name, dummy), seen_by in sorted(differing.items(), key=lambda item: item[1][0]):
        also = " (and %d more hosts: %s)" % (len(seen_by) - 1, ", ".join(seen_by[1:4]) + (", ..." if len(seen_by) > 4 else "")) \
            if len(seen_by) > 1 else ""
        errors.append(FleetError(("hosts", seen_by[0], name), "this register sees a different %s than the controller%s: "
                                 "the group or host vars of the register override group_vars/all, but %s is read on the "
                                 "controller only, so this value would never be applied; declare it in group_vars/all"
                                 % (name, also, name)))

    misplaced = {}
    for host in sorted(others or {}):
        for name in sorted(others[host]):
            # A serial alone also names the hosts of the cabinet inventory plugin, which are not fleet data.
            if name in REGISTER_VARIABLES and name != REGISTER_SERIAL_VAR and name not in controller:
                misplaced.setdefault(name, []).append(host)
    for name, seen_by in sorted(misplaced.items()):
        also = " (and %d more)" % (len(seen_by) - 1) if len(seen_by) > 1 else ""
        errors.append(FleetError(("hosts", seen_by[0], name), "this host%s is not in the registers group, so %s is never "
                                 "applied; add the host to the registers group (or a group under it)" % (also, name)))

    fleet_errors, summary = validate_fleet(document)
    # One message per field: a variable that could not be evaluated is not also "required".
    reported = set(error.parts for error in errors)
    errors.extend(error for error in fleet_errors if error.parts not in reported)
    errors.sort(key=sort_key)
    return errors, summary
