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
import unicodedata
import uuid

from ansible_collections.modulkassa.pos.plugins.module_utils._health import (
    KKT_NOT_PLUGGED,
    NO_REGISTRATION_REQUEST,
    health_of,
    statuses_of,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import (
    API_PATHS,
    FIELDS_BY_NAME,
    MANAGED_FIELDS,
    VAT_NAME_FIELD,
    VAT_TAG_FIELD,
    PointInputError,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._tax_data import ABOLISHED_TAX_MODES, TAX_MODES

# KKT_NOT_PLUGGED (the cabinet's activation test) and NO_REGISTRATION_REQUEST (a point without a tax-office
# registration request) are defined in _health, with every other value of the two statuses.

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


def canonical_desired(spec, path_prefix=""):
    """Canonical dict of the managed fields the user set (others are absent: not managed)."""
    result = {}
    vat_name = spec.get(VAT_NAME_FIELD)
    if vat_name is not None and spec.get(VAT_TAG_FIELD) is not None:
        raise PointInputError(path_prefix + VAT_NAME_FIELD, "and vat_tag set the same attribute: give one of them "
                              "(vat names the rate, vat_tag is the cabinet's number for it)")
    for field in MANAGED_FIELDS:
        # A declared ``vat`` (the rate's name) is the managed vat_tag (its number); None means 'not managed'.
        source = VAT_NAME_FIELD if field == VAT_TAG_FIELD and vat_name is not None else field
        value = spec.get(source)
        if value is not None:
            result[field] = FIELDS_BY_NAME[source].desired(value, path_prefix + source)
    inn = result.get("inn", "")
    if len(inn) == 12 and result.get("kpp"):
        raise PointInputError(path_prefix + "kpp", "must be empty when inn has 12 digits (an individual entrepreneur has no KPP)")
    return result


def canonical_actual(point):
    """Canonical dict of every managed field of a point as the cabinet returned it."""
    return dict((name, FIELDS_BY_NAME[name].actual(FIELDS_BY_NAME[name].value_in(point))) for name in MANAGED_FIELDS)


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
    kkt_status = statuses_of(point)[0]
    kkm_info = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
    return {
        "active": kkt_status != KKT_NOT_PLUGGED,
        "kkt_status": kkt_status,
        "register_serial": kkm_info.get("serialNumber"),
        "code_pending": bool(point.get("posLinkToken")),
    }


def registration_of(point):
    """The point's tax-office registration state (``registrationRequestStatus``; NOT_EXISTS when not reported)."""
    return statuses_of(point)[1]


def registration_blocks_delete(point):
    """Whether the cabinet refuses to delete the point now: its tax-office registration is under way."""
    return registration_of(point) not in DELETABLE_REGISTRATION_STATES


def register_label(activation):
    """How plans and reports name the register that holds an active point (``activation_of``)."""
    if activation["register_serial"]:
        return "register %s" % activation["register_serial"]
    return "a register the cabinet names no serial of"


def public_point(point):
    """The point as returned to the user: the activation code is a secret and never leaves the controller. With
    ``activation`` and ``health`` (``_health.health_of``: what its register and tax-office registration need)."""
    cleaned = {key: value for key, value in point.items() if key != "posLinkToken"}
    cleaned["activation"] = activation_of(point)
    cleaned["health"] = health_of(point)
    return cleaned
