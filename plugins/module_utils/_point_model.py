# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The canonical model of a retail point.

Both sides of every comparison go through here: what the user declared (``canonical_desired``) and what
the cabinet returned (``canonical_actual``). ``changed`` and ``diff`` are computed from these two dicts and
nothing else, so a value that the cabinet stores differently from how the user wrote it (a phone with
``+7``, an int VAT tag sent as a string) cannot make a re-run report a change.

Field names are the module option names; ``API_PATHS`` maps them to the cabinet's JSON.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
import uuid

from ansible_collections.modulkassa.pos.plugins.module_utils._tax_data import (
    ABOLISHED_TAX_MODES,
    SUPPORTED_VAT_TAGS,
    TAX_MODES,
    VAT_NAMES,
    UnsupportedRate,
    vat_tag_for,
)

# Managed attributes: option name -> path in the cabinet's retail-point JSON.
API_PATHS = {
    "name": ("name",),
    "address": ("address",),
    "phone": ("phone",),
    "inn": ("inn",),
    "kpp": ("settings", "egaisSettings", "kpp"),
    "tax_mode": ("settings", "defaultTaxMode"),
    "vat_tag": ("settings", "defaultVatTag"),
    "fiscal_service_enabled": ("settings", "fiscalServiceEnabled"),
}
MANAGED_FIELDS = tuple(API_PATHS)
STRING_FIELDS = ("name", "address", "phone", "inn", "kpp", "tax_mode")

# Declared, not managed as such: ``vat`` names the rate that ``vat_tag`` holds as the cabinet's number, so a point
# declared either way has one canonical field and compares equal (both come from the one table in _tax_data).
VAT_NAME_FIELD = "vat"

# settings.defaultTaxMode and settings.defaultVatTag: the values and their sources are in _tax_data.
VAT_TAGS = SUPPORTED_VAT_TAGS

NAME_MAX = 255
ADDRESS_MAX = 1000

# The cabinet's own activation test: a point is active once a register reported in.
KKT_NOT_PLUGGED = "KKT_NOT_PLUGGED"

# registrationRequestStatus of a point that never had a tax-office registration request (the cabinet's default).
NO_REGISTRATION_REQUEST = "NOT_EXISTS"
# The registration states in which the cabinet offers to delete a point. In every other one (STARTED,
# OFD_WAIT_RNM, ...) a registration with the tax office is under way and the cabinet refuses a DELETE (409
# retail-point-delete-forbidden); a state this list does not know counts as under way.
DELETABLE_REGISTRATION_STATES = (NO_REGISTRATION_REQUEST, "DRAFT", "ERROR", "REGISTERED")

# The most points one purge may delete (retail_points' purge_max; the planner's check_purge_limit). A pull request
# that closes a shop or two retires a few points; a data file truncated by a bad merge, or a variable file left out
# of the inventory, would retire hundreds. Ten is above the first and far below the second for any chain; a larger
# clean-up raises it for that run.
PURGE_MAX_DEFAULT = 10
PURGE_NO_LIMIT = -1  # purge_max: -1 lifts the limit (0 means what it says: a purge may delete nothing)

# Fixed namespace for point ids; changing it would make every existing deployment create duplicates.
POINT_ID_NAMESPACE = uuid.UUID("6f1d3c52-9a8e-5b7e-8c41-2d0f6a1e9b73")

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


def point_id_for(login, name):
    """The deterministic id of a point this collection creates: a retried or raced create collides."""
    return str(uuid.uuid5(POINT_ID_NAMESPACE, "%s/%s" % (login.strip().lower(), name)))


def point_name_key(name):
    """The identity of a point name: two names with the same key are the same name.

    People and registers tell points apart by name, so names that differ only in letter case, in compatibility
    forms (full-width letters, a no-break space) or in whitespace are one name: whitespace runs (any Unicode
    space, tab, newline) become one space, leading and trailing whitespace goes, then Unicode compatibility
    caseless matching applies (NFKC, full case folding, NFKC: ``Straße`` equals ``STRASSE``). Letters stay
    themselves otherwise (``ё`` is not ``е``). Every comparison of point names uses this: the fleet validator,
    ``normalize_specs``, the planners' lookups in the cabinet, the registers' references.
    """
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    return unicodedata.normalize("NFKC", text.casefold())


def name_matches(name, pattern):
    """Whether a point name matches a name pattern: the one matcher of the collection's name filters (the export's
    ``names``, ``retail_points``' ``purge_exclude``).

    A pattern is a shell-style glob (``fnmatch``: ``*``, ``?``, ``[...]``, ``[!...]``; ``[[]`` for a literal ``[``)
    matched against the **whole** name. Both sides are compared as names are (``point_name_key``): a pattern is
    folded like a name, so ``shop *`` matches ``Shop 1`` and ``SHOP  2``, as the planner would take ``shop 1`` for
    ``Shop 1``; letters inside ``[...]`` are folded too. A pattern equal to the name after folding also matches, so
    a name holding ``[`` or ``*`` can be given as it is.
    """
    name_key, pattern_key = point_name_key(name), point_name_key(pattern)
    return name_key == pattern_key or fnmatch.fnmatchcase(name_key, pattern_key)


def index_by_name(points):
    """``{point_name_key(name): [points]}`` of the cabinet's points that have an id (for ``points_named``)."""
    index = {}
    for point in points:
        if isinstance(point, dict) and point.get("id"):
            index.setdefault(point_name_key(canonical_actual(point)["name"]), []).append(point)
    return index


def points_named(name, index):
    """The cabinet points ``name`` designates (``index`` from ``index_by_name``): one, none, or several. Several
    is ambiguous, whether spelt alike or only equal after folding: the caller fails naming their ids (D6)."""
    return index.get(point_name_key(name), [])


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


def _check_text(path, value, max_len):
    for char in value:
        # Control characters (newlines, escapes, NUL, bidi overrides) and the Unicode line and paragraph
        # separators would print on receipts and corrupt reports and logs.
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise PointInputError(path, "must not contain control or unassigned characters (found U+%04X)" % ord(char))
    if len(value) > max_len:
        raise PointInputError(path, "must be at most %d characters (got %d)" % (max_len, len(value)))


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


def _desired_value(field, value, path):
    """Validate and normalise one declared value; ``None`` means 'not managed'."""
    if value is None:
        return None
    # Values are returned as plain bool/int/str: Ansible hands plugins tagged subclasses (2.19 data tagging),
    # which yaml and json dumpers outside Ansible cannot represent.
    if field == "fiscal_service_enabled":
        if not isinstance(value, bool):
            raise PointInputError(path, "must be a boolean")
        return bool(value)
    if field == "vat_tag":
        if isinstance(value, bool) or not isinstance(value, int) or value not in VAT_TAGS:
            raise PointInputError(path, "must be one of %s (or name the rate with vat)" % ", ".join(str(v) for v in VAT_TAGS))
        return int(value)
    if not isinstance(value, str):
        raise PointInputError(path, "must be a string (quote numbers such as INN and KPP in YAML)")
    value = str.strip(value)
    if field == "name":
        if not value:
            raise PointInputError(path, "must not be empty")
        _check_text(path, value, NAME_MAX)
        return value
    if field == "address":
        _check_text(path, value, ADDRESS_MAX)
        return value
    if field == "phone":
        return normalize_phone(value, path) if value else ""
    if field == "inn":
        if value and not inn_is_valid(value):
            raise PointInputError(path, "must be 10 or 12 digits with a valid INN checksum")
        return value
    if field == "kpp":
        value = value.upper()
        if value and not _KPP_RE.match(value):
            raise PointInputError(path, "must be 9 characters: 4 digits, 2 digits or capital letters, 3 digits")
        return value
    if field == "tax_mode":
        value = value.upper()
        if value not in TAX_MODES:
            raise PointInputError(path, "must be one of %s" % ", ".join(TAX_MODES))
        return value
    raise PointInputError(path, "is not a managed field")  # pragma: no cover - guarded by MANAGED_FIELDS


def _vat_tag_by_name(value, path):
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


def canonical_desired(spec, path_prefix=""):
    """Canonical dict of the managed fields the user set (others are absent: not managed)."""
    result = {}
    vat_name = spec.get(VAT_NAME_FIELD)
    if vat_name is not None and spec.get("vat_tag") is not None:
        raise PointInputError(path_prefix + VAT_NAME_FIELD, "and vat_tag set the same attribute: give one of them "
                              "(vat names the rate, vat_tag is the cabinet's number for it)")
    for field in MANAGED_FIELDS:
        if field == "vat_tag" and vat_name is not None:
            value = _vat_tag_by_name(vat_name, path_prefix + VAT_NAME_FIELD)
        else:
            value = _desired_value(field, spec.get(field), path_prefix + field)
        if value is not None:
            result[field] = value
    inn = result.get("inn", "")
    if len(inn) == 12 and result.get("kpp"):
        raise PointInputError(path_prefix + "kpp", "must be empty when inn has 12 digits (an individual entrepreneur has no KPP)")
    return result


def _dig(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def canonical_actual(point):
    """Canonical dict of every managed field of a point as the cabinet returned it."""
    result = {}
    for field, path in API_PATHS.items():
        value = _dig(point, path)
        if field == "fiscal_service_enabled":
            result[field] = bool(value)
        elif field == "vat_tag":
            try:
                result[field] = int(value) if value is not None else None
            except (TypeError, ValueError):
                result[field] = value
        elif value is None:
            result[field] = ""
        elif field == "phone":
            try:
                result[field] = normalize_phone(str(value))
            except PointInputError:
                result[field] = str(value)
        elif field in ("kpp", "tax_mode"):
            result[field] = str(value).strip().upper()
        else:
            result[field] = str(value).strip()
    return result


def with_implied_fields(desired, actual, path_prefix=""):
    """``desired`` plus what it implies given the cabinet's canonical ``actual``; raises on a contradiction.

    ``actual`` is ``{}`` for a point to be created. The cabinet checks the INN/KPP pair across fields:

    * A 12-digit INN (an individual entrepreneur) allows no KPP (``kpp-not-allowed``). A point whose declared INN
      becomes 12 digits, with ``kpp`` not declared, has its KPP cleared too (the diff shows it). The reverse cannot
      be implied: a KPP declared for a point whose INN in the cabinet has 12 digits is an error naming the KPP.
    * A 10-digit INN (a legal entity) needs a KPP (``kpp-required``) when the point is created, or when the write
      sets its INN or its KPP. A KPP cannot be guessed, so that is an error naming the KPP. A point the cabinet
      holds without one, whose INN and KPP the data leaves as they are, is left alone.

    Both errors are found here, before any write.
    """
    inn = desired["inn"] if "inn" in desired else actual.get("inn") or ""
    if len(inn) == 12:
        if desired.get("kpp"):
            raise PointInputError(path_prefix + "kpp", "must be empty: the point's INN in the cabinet has 12 digits (an "
                                  "individual entrepreneur has no KPP); declare the inn too if it changes")
        if "inn" in desired and "kpp" not in desired and actual.get("kpp"):
            desired = dict(desired, kpp="")
    elif len(inn) == 10:
        kpp = desired["kpp"] if "kpp" in desired else actual.get("kpp") or ""
        writes_pair = any(field in desired and desired[field] != (actual.get(field) or "") for field in ("inn", "kpp"))
        if not kpp and writes_pair:
            raise PointInputError(path_prefix + "kpp", "is required: inn has 10 digits (a legal entity), and the "
                                  "cabinet refuses a legal entity without its KPP")
    return desired


def tax_mode_notices(desired, actual, path_prefix=""):
    """What the planner must say about an abolished tax mode (ENVD); raises when a write would set one.

    ``actual`` is the cabinet's canonical point, or ``None`` for a point to create. A new point, or a change of an
    existing point's mode, cannot use an abolished mode: the task fails before any write, naming the field. A point
    that the cabinet already holds in such a mode (whether or not ``tax_mode`` is declared) is left as it is and
    reported: a list of notices (plain sentences), empty when there is nothing to say.
    """
    declared = desired.get("tax_mode")
    held = actual.get("tax_mode") if actual is not None else None
    if declared in ABOLISHED_TAX_MODES and declared != held:
        raise PointInputError(path_prefix + "tax_mode", "%s: %s cannot use it; choose one of %s" % (
            ABOLISHED_TAX_MODES[declared], "a new point" if actual is None else "a point changing its tax mode",
            ", ".join(mode for mode in TAX_MODES if mode not in ABOLISHED_TAX_MODES)))
    if held in ABOLISHED_TAX_MODES and declared in (None, held):
        return ["its tax mode in the cabinet is %s. %s; declare the tax mode it uses now (tax_mode)"
                % (held, ABOLISHED_TAX_MODES[held])]
    return []


def changed_fields(desired, actual):
    """Managed fields whose declared value differs from the cabinet's, in a stable order."""
    return [field for field in MANAGED_FIELDS if field in desired and desired[field] != actual.get(field)]


def api_body(fields):
    """Nested cabinet JSON for the given canonical fields (a full create body or a partial PUT)."""
    body = {}
    for field, value in fields.items():
        path = API_PATHS[field]
        node = body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return body


def activation_of(point):
    """What the cabinet says about the point's activation, without the code itself."""
    kkt_status = point.get("kktStatus") or KKT_NOT_PLUGGED
    kkm_info = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
    return {
        "active": kkt_status != KKT_NOT_PLUGGED,
        "kkt_status": kkt_status,
        "register_serial": kkm_info.get("serialNumber"),
        "code_pending": bool(point.get("posLinkToken")),
    }


def registration_of(point):
    """The point's tax-office registration state (``registrationRequestStatus``; NOT_EXISTS when not reported)."""
    status = point.get("registrationRequestStatus")
    return str(status) if status not in (None, "") else NO_REGISTRATION_REQUEST


def registration_blocks_delete(point):
    """Whether the cabinet refuses to delete the point now: its tax-office registration is under way."""
    return registration_of(point) not in DELETABLE_REGISTRATION_STATES


def register_label(activation):
    """How plans and reports name the register that holds an active point (``activation_of``)."""
    if activation["register_serial"]:
        return "register %s" % activation["register_serial"]
    return "a register the cabinet names no serial of"


def public_point(point):
    """The point as returned to the user: the activation code is a secret and never leaves the controller."""
    cleaned = {key: value for key, value in point.items() if key != "posLinkToken"}
    cleaned["activation"] = activation_of(point)
    return cleaned
