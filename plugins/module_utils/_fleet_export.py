# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cabinet's account as fleet data: the pure mapping behind ``modulkassa.pos.fleet_export``.

``export_fleet`` takes the account's point list (one ``GET /api/v1/retail-points``) and returns plain data: the
points as ``modulkassa_points`` entries, the registers the cabinet shows holding them, and for each the notes that
say what the fleet data cannot express. It makes no request and writes nothing; the YAML text is made from this by
``plugin_utils/_fleet_export_render.py``.

Every value goes through the collection's own point model and tax table, the code the modules and the validator
run, so an exported entry is one they accept and compare equal to the cabinet's point:

* the cabinet's values are read with ``canonical_actual`` (the planner's view of a point), and an entry is checked
  with ``canonical_desired``; a value the model refuses (a legacy phone, a KPP beside a 12-digit INN) is left out
  of the entry and named in a note, and the attribute stays unmanaged instead of failing validation;
* the VAT rate is written by its name from ``_tax_data`` (``vat: VAT_22``); a number the table does not name, and
  an abolished tax mode (ENVD), are notes, not declarations;
* ``id`` is written where it is not the one ``point_id_for`` derives from the login and the name, and where the
  name does not identify the point alone: the planner then matches the point by id, so renaming it in git renames
  it in the cabinet instead of creating a new one;
* a register is named from its serial (``kkmInfo.serialNumber`` of the active points, ``activation_of``).

No secret reaches the result: ``posLinkToken`` is read only as "a code is pending", and of the settings and other
keys the fleet data does not manage only the key names are kept (a settings blob may hold device access codes).
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import (
    ATTRIBUTE_OPTIONS,
    FIELDS_BY_NAME,
    VAT_TAG_FIELD,
    inn_is_valid,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    API_PATHS,
    MANAGED_FIELDS,
    NO_REGISTRATION_REQUEST,
    VAT_NAME_FIELD,
    PointInputError,
    activation_of,
    canonical_actual,
    canonical_desired,
    name_matches,
    point_id_for,
    point_name_key,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._tax_data import ABOLISHED_TAX_MODES, vat_name_for

# The keys of an exported point, in the order they are written (docs/fleet.md's order). ``vat`` stands for the
# managed ``vat_tag`` (the number): the fleet data names the rate.
ENTRY_KEYS = ("name", "id") + tuple(name for name in ATTRIBUTE_OPTIONS if name != VAT_TAG_FIELD)

# What the cabinet's point object holds beside the managed attributes and is read here: the id, the activation
# (kktStatus, kkmInfo, posLinkToken: only whether a code is pending), the registration, the structured address.
# Every other key is named in a note, without its value.
_READ_KEYS = frozenset(("id", "settings", "posLinkToken", "kktStatus", "kkmInfo", "registrationRequestStatus",
                        "fullAddress"))
_TOP_LEVEL_MANAGED = frozenset(path[0] for path in API_PATHS.values() if len(path) == 1)
_SETTINGS_MANAGED = frozenset(path[1] for path in API_PATHS.values() if len(path) == 2 and path[0] == "settings")
_EGAIS_MANAGED = frozenset(path[2] for path in API_PATHS.values() if len(path) == 3 and path[1] == "egaisSettings")

# A serial used as it is for the register's inventory name: letters, digits, '.', '_' and '-' only, so that it is
# a valid host name for every inventory plugin, a --limit pattern without quoting and a host_vars file name.
_SAFE_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_NOT_HOST_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class ExportSelectionError(PointInputError):
    """A filter that cannot select anything sensible (an invalid INN): found before any request."""


def check_selection(inns, name_patterns):
    """Validate the filters before any request: INNs must be valid (a typo would silently export nothing)."""
    for index, inn in enumerate(inns or ()):
        if not isinstance(inn, str) or not inn_is_valid(inn.strip()):
            raise ExportSelectionError("inn[%d]" % index, "must be 10 or 12 digits with a valid INN checksum")
    for index, pattern in enumerate(name_patterns or ()):
        if not isinstance(pattern, str) or not pattern.strip():
            raise ExportSelectionError("names[%d]" % index, "must be a non-empty shell-style pattern")


def selected(canonical, inns, name_patterns):
    """Whether a point (canonical) is in the part of the account asked for.

    ``inns``: the point's INN is one of them. ``name_patterns``: shell-style patterns matched against the whole name
    by ``_point_model.name_matches`` (the matcher ``purge_exclude`` uses too: names compared as the collection
    compares them, ignoring letter case and spacing); one match is enough. Both given: both must hold.
    """
    if inns and canonical["inn"] not in inns:
        return False
    if name_patterns and not any(name_matches(canonical["name"], pattern) for pattern in name_patterns):
        return False
    return True


def register_host_name(serial):
    """The inventory name of the register with this serial: the serial itself when it is a safe host name.

    Otherwise the serial's safe characters, joined by '-', plus 8 hex digits of its SHA-256, so the name is
    stable (the same serial always gives the same name) and two serials that differ only in unsafe characters
    get different names.
    """
    if _SAFE_HOST_NAME.match(serial) and serial[-1] not in ".-":
        return serial
    stem = _NOT_HOST_CHARS.sub("-", serial).strip("-.")[:40].strip("-.") or "register"
    return "%s-%s" % (stem, hashlib.sha256(serial.encode("utf-8")).hexdigest()[:8])


def _shown(value):
    """A cabinet value quoted for a note: JSON (strings in quotes, Unicode kept), keys sorted."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _candidate_entry(point, canonical):
    """(entry values by key, notes): the managed attributes the cabinet holds, before the model's check."""
    values, notes = {}, []
    for field in MANAGED_FIELDS:
        raw = FIELDS_BY_NAME[field].value_in(point)
        if raw is None or raw == "":
            continue  # not held by the cabinet: left unmanaged rather than declared empty
        value = canonical[field]
        if field == "vat_tag":
            name = vat_name_for(value) if isinstance(value, int) and not isinstance(value, bool) else None
            if name is None:
                notes.append("vat_tag %s in the cabinet is a number the tax table does not name, so it is not declared "
                             "(docs/fleet.md, \"Tax data\"); declare the rate by name (vat)" % _shown(raw))
                continue
            values[VAT_NAME_FIELD] = name
        elif field == "tax_mode" and value in ABOLISHED_TAX_MODES:
            notes.append("tax_mode %s in the cabinet is not declared: %s; declare the mode the point uses now (tax_mode)"
                         % (value, ABOLISHED_TAX_MODES[value]))
        else:
            values[field] = value
    return values, notes


def _checked_entry(values, notes):
    """Drop every value the point model refuses (naming it in a note) until the entry is one it accepts."""
    values = dict(values)
    for dummy in range(len(values) + 1):
        try:
            canonical_desired(values)
            return values
        except PointInputError as exc:
            field = exc.path.split(".")[-1]
            if field not in values:  # pragma: no cover - every path the model names is a key of the entry
                raise
            notes.append("%s %s in the cabinet is not declared: the fleet data refuses it (%s)"
                         % (field, _shown(values.pop(field)), exc.rule))
    return values  # pragma: no cover - each round removes one key


def _unmanaged_keys(point):
    """Dotted names of what the point holds beside the managed attributes and the keys read here (no values)."""
    keys = sorted(str(key) for key in point if key not in _READ_KEYS and key not in _TOP_LEVEL_MANAGED)
    settings = point.get("settings") if isinstance(point.get("settings"), dict) else {}
    for key in sorted(settings, key=str):
        if key == "egaisSettings" and isinstance(settings[key], dict):
            keys.extend("settings.egaisSettings.%s" % sub for sub in sorted(settings[key], key=str)
                        if sub not in _EGAIS_MANAGED)
        elif key not in _SETTINGS_MANAGED:
            keys.append("settings.%s" % key)
    return keys


def _status_note(point, activation):
    """One sentence on what the cabinet says about the point's register and registration."""
    if activation["active"] and activation["register_serial"]:
        text = "held by register %s (kktStatus %s)" % (_shown(activation["register_serial"]), activation["kkt_status"])
    elif activation["active"]:
        text = "active (kktStatus %s), but the cabinet names no register serial" % activation["kkt_status"]
    else:
        text = "no register holds it (kktStatus %s)" % activation["kkt_status"]
    registration = point.get("registrationRequestStatus")
    if registration and registration != NO_REGISTRATION_REQUEST:
        text += "; registrationRequestStatus %s" % registration
    if activation["code_pending"]:
        text += "; an activation code is pending (the code is not exported)"
    return "cabinet: " + text


def _name_key(name):
    return point_name_key(name) if isinstance(name, str) else None


def export_point(point, login, shared_names=frozenset(), name_holder=None):
    """One cabinet point as ``{"id", "name", "entry": [(key, value)], "notes": [...], "register": serial}``.

    ``shared_names``: the names (``point_name_key``) more than one point of the account has; those points keep their
    id (the name alone would be ambiguous to the planner). ``name_holder``: for such a point, the name of the one
    point of its group that keeps the name in the data (the first by name, then id); the others are declared by id
    alone, since the fleet data refuses two names equal after folding.
    """
    canonical = canonical_actual(point)
    values, notes = _candidate_entry(point, canonical)
    values = _checked_entry(values, notes)
    unexpressed = len(notes)
    point_id = str(point["id"])
    name = values.get("name")
    shared = _name_key(canonical["name"]) in shared_names
    keep_id = (name is None or shared
               or point_id_key(point_id) != point_id_for(login, name))
    if keep_id:
        values["id"] = point_id
    if shared and name is not None and name_holder is not None:
        del values["name"]
        notes.append("its name %s is declared for another point (%s) and the fleet data refuses names equal after "
                     "folding letter case and spaces: declared by its id, the name left as it is; rename one of them "
                     "(here or in the cabinet) to manage it by name" % (_shown(name), _shown(name_holder)))
        unexpressed += 1
    activation = activation_of(point)
    notes.insert(0, _status_note(point, activation))
    full_address = point.get("fullAddress")
    if full_address not in (None, {}, ""):
        notes.append("fullAddress in the cabinet (not managed here): %s" % _shown(full_address))
    unmanaged = _unmanaged_keys(point)
    if unmanaged:
        notes.append("the cabinet also holds (not managed here, left as they are): %s" % ", ".join(unmanaged))
    return {
        "id": point_id,
        "name": canonical["name"],
        "entry": [(key, values[key]) for key in ENTRY_KEYS if key in values],
        "notes": notes,
        "register": activation["register_serial"] if activation["active"] else None,
        "id_kept": keep_id,
        "name_shared": shared,
        "values_not_declared": unexpressed,
    }


def _reference(exported):
    """How a register names a point: by name, unless the entry has none or shares it; then by id."""
    entry = dict(exported["entry"])
    return entry["id"] if "id" in entry and ("name" not in entry or exported["name_shared"]) else entry["name"]


def export_fleet(points, login, inns=(), name_patterns=()):
    """The account (``points``: the cabinet's list) as fleet data; see the module docstring. Makes no request."""
    inns = tuple(inn.strip() for inn in inns or ())
    name_patterns = tuple(name_patterns or ())
    check_selection(inns, name_patterns)
    points = [p for p in points if isinstance(p, dict) and p.get("id") is not None]
    canonicals = [canonical_actual(p) for p in points]
    # Names equal after folding (point_name_key), across the whole account: the first of each group by name, then id,
    # keeps the name in the data. Counted over the account, not the selected part, so a filtered export names the
    # same points by id as a whole one.
    groups = {}
    for point, canonical in zip(points, canonicals):
        key = _name_key(canonical["name"])
        if key is not None:
            groups.setdefault(key, []).append((canonical["name"], str(point["id"])))
    shared = frozenset(key for key, members in groups.items() if len(members) > 1)
    holders = dict((key, min(groups[key])) for key in shared)

    exported, outside = [], []
    for point, canonical in zip(points, canonicals):
        if selected(canonical, inns, name_patterns):
            key = _name_key(canonical["name"])
            holder = holders.get(key)
            exported.append(export_point(point, login, shared,
                                         holder[0] if holder and holder[1] != str(point["id"]) else None))
        else:
            outside.append((point, canonical))
    # Points by name (code point order: the same in every locale), then by id for names that several points share.
    exported.sort(key=lambda item: (item["name"], item["id"]))

    registers = {}
    for item in exported:
        if item["register"]:
            registers.setdefault(item["register"], {"points": [], "outside": [], "kkm": None})["points"].append(item)
    registers_outside = set()
    for point, canonical in outside:
        activation = activation_of(point)
        serial = activation["register_serial"] if activation["active"] else None
        if serial in registers:
            registers[serial]["outside"].append("%s (id %s)" % (_shown(canonical["name"]), point["id"]))
        elif serial:
            registers_outside.add(serial)
    kkm_by_serial = {}
    for point in sorted(points, key=lambda p: str(p["id"])):  # one point's kkmInfo, the same one every time
        kkm = point.get("kkmInfo")
        if isinstance(kkm, dict) and kkm.get("serialNumber") in registers:
            kkm_by_serial.setdefault(kkm["serialNumber"], kkm)

    hosts = []
    names_taken = {}
    for serial in sorted(registers):
        host = register_host_name(serial)
        names_taken.setdefault(host, []).append(serial)
    for serial in sorted(registers):
        host = register_host_name(serial)
        if len(names_taken[host]) > 1:  # a serial that is another one's sanitised form: both get the digest
            host = "%s-%s" % (host, hashlib.sha256(serial.encode("utf-8")).hexdigest()[:8])
        held = registers[serial]
        notes = []
        kkm = kkm_by_serial.get(serial) or {}
        facts = ["%s %s" % (label, _shown(kkm[key])) for key, label in (("model", "model"), ("appVersion", "app version"))
                 if kkm.get(key) not in (None, "")]
        if facts:
            notes.append("cabinet: " + ", ".join(facts))
        if held["outside"]:
            notes.append("it also holds %s, outside this export: the registers role releases every point a register "
                         "is not declared for, so declare them or keep this register out of site runs"
                         % ", ".join(sorted(held["outside"])))
        hosts.append({
            "host": host,
            "serial": serial,
            "points": [_reference(item) for item in held["points"]],
            "notes": notes,
            "holds_points_outside": bool(held["outside"]),
        })

    without_register = [item["name"] for item in exported if not item["register"]]
    summary = {
        "account_points": len(points),
        "points": len(exported),
        "ids_kept": sum(1 for item in exported if item["id_kept"]),
        "registers": len(hosts),
        "points_without_register": without_register,
        "points_with_values_not_declared": sum(1 for item in exported if item["values_not_declared"]),
        # Registers left out of a partial export: every point they hold is outside it.
        "registers_outside": len(registers_outside),
        "registers_holding_points_outside": sum(1 for host in hosts if host["holds_points_outside"]),
    }
    return {
        "selection": {"inn": list(inns), "names": list(name_patterns)},
        "points": exported,
        "registers": hosts,
        "summary": summary,
    }
