# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The attributes of a retail point that the collection manages: ONE table, ``FIELDS``.

Each row says everything the code needs about one attribute: its option name, where the cabinet's JSON keeps it,
its JSON type, how a declared value is checked and normalised (``desired``), how the cabinet's value is read for
comparison (``actual``), its argument spec entry and its fleet-schema property (with its one-line ``doc``). The
point model (``API_PATHS``, ``MANAGED_FIELDS``, ``canonical_desired``/``canonical_actual``), the plugins' argument
spec (``_argspec.point_attributes``) and the fleet schema's point properties (``_fleet_schema``) are derived from
it. The option docs (the ``modulkassa.pos.cabinet.point_attributes`` doc fragment, the retail_points role's
argument specs) are static text, because ansible-doc and the sanity tests read them without running code; a unit
test (``tests/unit/plugins/test_docs_match_argspecs.py``) keeps them equal to this table. How to add an attribute:
docs/architecture.md, "Adding a managed attribute".
"""

from __future__ import annotations

import re
import unicodedata

from ansible_collections.modulkassa.pos.plugins.module_utils._tax_data import (
    ABOLISHED_TAX_MODES,
    SUPPORTED_VAT_TAGS,
    TAX_MODES,
    VAT_NAMES,
    UnsupportedRate,
    vat_tag_for,
)

NAME_MAX = 255
ADDRESS_MAX = 1000

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_PHONE_PUNCTUATION_RE = re.compile(r"[\s()\-.]")


class PointInputError(ValueError):
    """Bad input, found before any request. ``path`` names the offending field (``points[3].inn``)."""

    def __init__(self, path, rule):
        self.path = path
        self.rule = rule
        super().__init__("%s: %s" % (path, rule))


# ---- the checks behind the table ---------------------------------------------------------------------------

def _inn_checksum(digits, weights):
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def inn_is_valid(inn):
    if not inn.isdigit() or not inn.isascii():
        return False
    if len(inn) == 10:
        return _inn_checksum(inn, _INN10_WEIGHTS) == int(inn[9])
    if len(inn) == 12:
        return (_inn_checksum(inn, _INN12_WEIGHTS_1) == int(inn[10])
                and _inn_checksum(inn, _INN12_WEIGHTS_2) == int(inn[11]))
    return False


def normalize_phone(value, path="phone"):
    """Return the cabinet's 10-digit form of a Russian phone number."""
    raw = _PHONE_PUNCTUATION_RE.sub("", value)
    if raw.startswith("+7"):
        raw = raw[2:]
    elif len(raw) == 11 and raw[0] in "78":
        raw = raw[1:]
    if len(raw) != 10 or not raw.isdigit() or not raw.isascii():
        raise PointInputError(path, "must be a 10-digit phone number after the +7/8 prefix (e.g. +7 912 345-67-89)")
    return raw


def _check_text(path, value, max_len):
    for char in value:
        # Control characters (newlines, escapes, NUL, bidi overrides) and the Unicode line and paragraph
        # separators would print on receipts and corrupt reports and logs.
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise PointInputError(path, "must not contain control or unassigned characters (found U+%04X)" % ord(char))
    if len(value) > max_len:
        raise PointInputError(path, "must be at most %d characters (got %d)" % (max_len, len(value)))


# Declared values come back as plain bool/int/str: Ansible hands plugins tagged subclasses (2.19 data tagging),
# which yaml and json dumpers outside Ansible cannot represent.

def _string(value, path):
    if not isinstance(value, str):
        raise PointInputError(path, "must be a string (quote numbers such as INN and KPP in YAML)")
    return str.strip(value)


def _desired_name(value, path):
    value = _string(value, path)
    if not value:
        raise PointInputError(path, "must not be empty")
    _check_text(path, value, NAME_MAX)
    return value


def _desired_address(value, path):
    value = _string(value, path)
    _check_text(path, value, ADDRESS_MAX)
    return value


def _desired_phone(value, path):
    value = _string(value, path)
    return normalize_phone(value, path) if value else ""


def _desired_inn(value, path):
    value = _string(value, path)
    if value and not inn_is_valid(value):
        raise PointInputError(path, "must be 10 or 12 digits with a valid INN checksum")
    return value


def _desired_kpp(value, path):
    value = _string(value, path).upper()
    if value and not _KPP_RE.match(value):
        raise PointInputError(path, "must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits")
    return value


def _desired_tax_mode(value, path):
    value = _string(value, path).upper()
    if value not in TAX_MODES:
        raise PointInputError(path, "must be one of %s" % ", ".join(TAX_MODES))
    return value


def _desired_vat(value, path):
    """The cabinet's tag of a rate given by name (``vat: VAT_22``)."""
    if not isinstance(value, str):
        raise PointInputError(path, "must be a string, one of %s" % ", ".join(VAT_NAMES))
    try:
        tag = vat_tag_for(str.strip(value).upper())
    except UnsupportedRate as exc:
        raise PointInputError(path, str(exc))
    if tag is None:
        raise PointInputError(path, "must be one of %s" % ", ".join(VAT_NAMES))
    return tag


def _desired_vat_tag(value, path):
    if isinstance(value, bool) or not isinstance(value, int) or value not in SUPPORTED_VAT_TAGS:
        raise PointInputError(path, "must be one of %s (or name the rate with vat)" % ", ".join(str(v) for v in SUPPORTED_VAT_TAGS))
    return int(value)


def _desired_bool(value, path):
    if not isinstance(value, bool):
        raise PointInputError(path, "must be a boolean")
    return bool(value)


# The cabinet's values, read so that formatting never reads as a change. A missing string is "" (unset).

def _actual_text(value):
    return "" if value is None else str(value).strip()


def _actual_upper(value):
    return "" if value is None else str(value).strip().upper()


def _actual_phone(value):
    if value is None:
        return ""
    try:
        return normalize_phone(str(value))
    except PointInputError:
        return str(value)


def _actual_vat_tag(value):
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return value


def _actual_bool(value):
    return bool(value)


# ---- the table ------------------------------------------------------------------------------------------------

class PointField(object):
    """One managed attribute (see the module docstring). ``api_path`` is None for a declared-only field."""

    def __init__(self, name, api_path, json_type, desired, actual, argspec, schema, doc):
        self.name = name
        self.api_path = api_path
        self.json_type = json_type
        self.desired = desired
        self.actual = actual
        self.argspec = argspec
        self.schema = schema
        self.doc = doc

    def value_in(self, point):
        """This field's value in a cabinet point (``None`` where the JSON has no such key, or no object on the way)."""
        value = point
        for key in self.api_path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    def schema_property(self):
        """The fleet schema's property for this field: its JSON type, its own checks, its doc."""
        prop = {"type": self.json_type} if self.json_type else {}
        prop.update(self.schema)
        if self.doc:
            prop["description"] = self.doc
        return prop


_ABOLISHED = ", ".join("%s (%s)" % (mode, reason) for mode, reason in sorted(ABOLISHED_TAX_MODES.items()))

FIELDS = (
    PointField("name", ("name",), "string", _desired_name, _actual_text,
               {"type": "str"}, {"minLength": 1, "maxLength": NAME_MAX},
               "Unique within the account; registers refer to the point by it."),
    PointField("address", ("address",), "string", _desired_address, _actual_text,
               {"type": "str"}, {"maxLength": ADDRESS_MAX},
               None),
    PointField("phone", ("phone",), "string", _desired_phone, _actual_phone,
               {"type": "str"}, {},
               "Any common form of a Russian number; compared as 10 digits."),
    PointField("inn", ("inn",), "string", _desired_inn, _actual_text,
               {"type": "str"},
               {"pattern": "^\\s*([0-9]{10}|[0-9]{12})?\\s*$",
                "x-error": "must be 10 digits (a legal entity) or 12 digits (an individual entrepreneur)"},
               "Quoted: an unquoted number loses leading zeros or is read as octal."),
    PointField("kpp", ("settings", "egaisSettings", "kpp"), "string", _desired_kpp, _actual_upper,
               {"type": "str"},
               {"pattern": "^\\s*([0-9]{4}[0-9A-Za-z]{2}[0-9]{3})?\\s*$",
                "x-error": "must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits"},
               "Quoted; empty (or absent) when the INN has 12 digits."),
    PointField("tax_mode", ("settings", "defaultTaxMode"), None, _desired_tax_mode, _actual_upper,
               {"type": "str", "choices": list(TAX_MODES)}, {"enum": list(TAX_MODES)},
               "settings.defaultTaxMode. %s: only for a point the cabinet already holds in it (refused for a new "
               "point)." % _ABOLISHED),
    # Declared, not managed as such: ``vat`` names the rate that ``vat_tag`` holds as the cabinet's number, so a point
    # declared either way has one canonical field and compares equal (both come from the one table in _tax_data).
    # Every rate of the tax table is a choice, also one not yet supported: the model then refuses it with the reason.
    PointField("vat", None, None, _desired_vat, None,
               {"type": "str", "choices": list(VAT_NAMES)}, {"enum": list(VAT_NAMES)},
               "The default VAT rate by name (VAT_22 is 22 %); the same setting as vat_tag, give one of them."),
    PointField("vat_tag", ("settings", "defaultVatTag"), "integer", _desired_vat_tag, _actual_vat_tag,
               {"type": "int", "choices": list(SUPPORTED_VAT_TAGS)}, {"enum": list(SUPPORTED_VAT_TAGS)},
               "The default VAT rate as the cabinet's number (settings.defaultVatTag)."),
    PointField("fiscal_service_enabled", ("settings", "fiscalServiceEnabled"), "boolean", _desired_bool, _actual_bool,
               {"type": "bool"}, {},
               None),
)
FIELDS_BY_NAME = dict((field.name, field) for field in FIELDS)

# The declared-only field and the managed one it sets.
VAT_NAME_FIELD = "vat"
VAT_TAG_FIELD = "vat_tag"

# Derived views: option name -> path in the cabinet's retail-point JSON (the managed fields, in the table's order),
# and the options every point-taking plugin has besides its own (all but ``name``, which each plugin documents).
API_PATHS = dict((field.name, field.api_path) for field in FIELDS if field.api_path)
MANAGED_FIELDS = tuple(API_PATHS)
ATTRIBUTE_OPTIONS = tuple(field.name for field in FIELDS if field.name != "name")
