# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of a task's raw arguments that Ansible's argument spec does not make, or makes without a path.

* For a ``str`` option Ansible turns any value into a string: a list becomes ``"['a', 'b']"``, a mapping
  ``"{'name': 'x'}"``, ``true`` ``"True"``, and a point with that name would be created. Such a value is an
  error here, named by its full path (``points[3].name``), before the spec is applied.
* Options whose digits matter (INN, KPP, phone) must be quoted: YAML reads ``0274062111`` as an octal number
  and any unquoted number loses its leading zeros.
* When the spec rejects one element of a list of mappings, Ansible names the option but not the element
  ("found in 'points'"); ``locate_element_error`` finds which element and which of its keys it was.
"""

from __future__ import annotations

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import type_phrase

DIGIT_STRING_OPTIONS = frozenset(("inn", "kpp", "phone"))


def _string_rule(name, value):
    if isinstance(value, str):
        return None
    if isinstance(value, (bool, dict, list, tuple, set)):
        return "must be a string, not %s" % type_phrase(value)
    if name in DIGIT_STRING_OPTIONS and isinstance(value, (int, float)):
        return "must be a quoted string: YAML read it as a number, which loses leading zeros"
    return None


def raw_type_error(spec, args, prefix=""):
    """``(path, rule)`` of the first raw value that a ``str`` option cannot sensibly take, or None."""
    for name, option in spec.items():
        value = args.get(name) if isinstance(args, dict) else None
        if value is None:
            continue
        path = prefix + name
        kind = option.get("type", "str")
        if kind == "str":
            rule = _string_rule(name, value)
            if rule:
                return path, rule
        elif kind == "list" and option.get("elements") == "dict" and not isinstance(value, list):
            # Ansible would split a string at commas and then fail on "dictionary requested", naming nothing.
            return path, "must be a list of mappings, not %s" % type_phrase(value)
        elif kind == "list" and isinstance(value, list):
            for index, element in enumerate(value):
                element_path = "%s[%d]" % (path, index)
                if option.get("elements") == "str":
                    rule = _string_rule(name, element)
                    if rule:
                        return element_path, rule
                elif option.get("elements") == "dict" and "options" in option:
                    if not isinstance(element, dict):
                        return element_path, "must be a mapping, not %s" % type_phrase(element)
                    found = raw_type_error(option["options"], element, element_path + ".")
                    if found:
                        return found
    return None


_RULE_KEYS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


def _element_error(option, element):
    """``(suboption or None, message)`` for one element the suboptions reject, or None."""
    options = option["options"]
    unknown = sorted(key for key in element if key not in options)
    if unknown:
        return unknown[0], "unsupported option (supported: %s)" % ", ".join(sorted(options))
    for key in element:  # each value alone first, so the error can name its suboption
        errors = ArgumentSpecValidator({key: copy.deepcopy(options[key])}).validate({key: element[key]}).errors
        if errors.errors:
            return key, errors.msg
    rules = dict((key, option.get(key)) for key in _RULE_KEYS)
    errors = ArgumentSpecValidator(copy.deepcopy(options), **rules).validate(dict(element)).errors
    return (None, errors.msg) if errors.errors else None


def locate_element_error(spec, args, message):
    """``(path, message)`` for the first element of a list-of-mappings option that its suboptions reject, or None.

    Only looked for when Ansible's ``message`` mentions that option, so a top-level error is not replaced."""
    for name, option in spec.items():
        value = args.get(name)
        if option.get("elements") != "dict" or "options" not in option or not isinstance(value, list):
            continue
        if "'%s'" % name not in message and " %s." % name not in message and "in %s" % name not in message:
            continue
        for index, element in enumerate(value):
            if not isinstance(element, dict):
                continue
            found = _element_error(option, element)
            if found:
                suboption, text = found
                path = "%s[%d]" % (name, index) + (".%s" % suboption if suboption else "")
                return path, text
    return None
