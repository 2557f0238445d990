# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate the fleet data (docs/fleet.md) before any request. Pure: no request, no SSH, no Ansible objects.

``validate_fleet(document)`` checks a fleet document (the shape ``_fleet_schema.FLEET_SCHEMA`` describes):
  the schema first (types, unknown keys, enums, formats), then what a schema cannot say, with
  ``_point_model`` (INN checksums, KPP, phones: the same code the modules run), then the cross-references
  (duplicate names, a point declared twice differently, registers naming undeclared points, a point claimed
  by two registers). ``_fleet_inventory.validate_inventory`` builds that document from what the inventory gives.

Every problem is a ``FleetError`` with the path of the offending field in the document
(``modulkassa_points[3].inn``, ``hosts.reg07.modulkassa_register_points[1]``); all problems are reported at
once, sorted by path.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - jsonschema is a requirement of the collection (requirements.txt)
    jsonschema = None
    HAS_JSONSCHEMA = False

from ansible_collections.modulkassa.pos.plugins.module_utils._data_size import DataTooLarge, SizeBudget
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    CODE_FILE_VAR,
    FLEET_SCHEMA,
    MANUAL_REGISTERS_VAR,
    POINTS_VAR,
    PURGE_VAR,
    REGISTER_POINTS_VAR,
    REGISTER_SERIAL_VAR,
    REGISTERS_VIA_VAR,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id, point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._plain_data import expected_phrase, plain, type_phrase
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    MANAGED_FIELDS,
    PointInputError,
    canonical_desired,
    point_name_key,
)

_SIMPLE_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_FOLDING = "names are compared ignoring letter case and spaces"

_REQUIRED_HINTS = {
    POINTS_VAR: "is required: the controller sees no modulkassa_points (declare the retail points in group_vars/all "
                "of the inventory; [] for none)",
    REGISTER_POINTS_VAR: "is required for every host of the registers group ([] for a register that must serve no point)",
    "name": "is required",
    "retail_points": "is required (the points staff activate on this register)",
}


_BOUNDS = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}


class FleetError(object):
    def __init__(self, parts, message):
        self.parts = tuple(parts)
        self.message = message

    @property
    def path(self):
        return format_path(self.parts)

    def as_dict(self):
        return {"path": self.path, "message": self.message}

    def __str__(self):
        return "%s: %s" % (self.path, self.message)

    def __repr__(self):
        return "FleetError(%r)" % str(self)


def format_path(parts):
    """``("hosts", "reg07", "modulkassa_register_points", 1)`` -> ``hosts.reg07.modulkassa_register_points[1]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += "[%d]" % part
        elif _SIMPLE_KEY_RE.match(part):
            text += ("." if text else "") + part
        else:
            text += "[%s]" % json.dumps(part, ensure_ascii=False)  # hosts["shop-1.example.com"]
    return text or "(top)"


def sort_key(error):
    """The order in which errors are reported: by path, list positions numerically."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in error.parts)


def _close(word, candidates, cutoff=0.6):
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return match[0] if match else None


# ---- schema -------------------------------------------------------------------------------------------

def _schema_errors(document):
    if not HAS_JSONSCHEMA:
        return [FleetError((), "the Python library jsonschema is required on the controller (pip install jsonschema)")]
    validator = jsonschema.Draft202012Validator(FLEET_SCHEMA)
    errors = []
    for error in validator.iter_errors(document):
        errors.extend(_translate(error))
    # One message per field: the first keyword that failed says the most (type before enum, and so on).
    seen, unique = set(), []
    for error in errors:
        if error.parts not in seen:
            seen.add(error.parts)
            unique.append(error)
    return unique


def _translate(error):
    parts = tuple(error.absolute_path)
    schema, instance, kind = error.schema, error.instance, error.validator
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        result = []
        for key in sorted(set(instance) - set(known), key=str):
            suggestion = _close(str(key), known)
            hint = " (did you mean %r?)" % suggestion if suggestion else "; known keys: %s" % ", ".join(known)
            result.append(FleetError(parts + (key,), "unknown key%s" % hint))
        return result
    if kind == "required" and isinstance(instance, dict):
        return [FleetError(parts + (key,), _REQUIRED_HINTS.get(key, "is required"))
                for key in error.validator_value if key not in instance]
    if kind == "type":
        expected = error.validator_value
        expected = expected if isinstance(expected, str) else expected[0]
        message = "must be %s, not %s" % (expected_phrase(expected), type_phrase(instance))
        if expected == "string" and isinstance(instance, (int, float)) and not isinstance(instance, bool):
            message += " (quote it in YAML: an unquoted number loses leading zeros, and 0274... is read as octal)"
        elif expected == "integer" and isinstance(instance, str):
            message += " (write it without quotes)"
        return [FleetError(parts, message)]
    if kind == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        return [FleetError(parts, "must be one of %s, not %r" % (choices, instance))]
    if kind in ("pattern", "anyOf") and "x-error" in schema:
        return [FleetError(parts, schema["x-error"])]
    if kind == "minLength":
        return [FleetError(parts, "must not be empty")]
    if kind == "maxLength":
        return [FleetError(parts, "must be at most %d characters (got %d)" % (error.validator_value, len(instance)))]
    if kind == "minItems":
        return [FleetError(parts, "must list at least %d item(s)" % error.validator_value)]
    if kind in _BOUNDS:
        return [FleetError(parts, "must be %s %s, not %r" % (_BOUNDS[kind], error.validator_value, instance))]
    return [FleetError(parts, error.message)]  # pragma: no cover - every keyword the schema uses is handled above


# ---- points ---------------------------------------------------------------------------------------------

class _Declared(object):
    """One declared point that passed the schema: where, its canonical attributes, and whether they are valid."""

    def __init__(self, index, spec):
        self.index = index
        self.parts = (POINTS_VAR, index)
        self.id = point_id_key(spec["id"]) if isinstance(spec.get("id"), str) else None
        self.raw_name = spec["name"].strip() if isinstance(spec.get("name"), str) else None
        # The name's identity (point_name_key): "Shop 1" and "shop  1" are one name.
        self.key = point_name_key(self.raw_name) if self.raw_name else None
        self.state = spec.get("state") or "present"
        self.desired = None  # canonical attributes when valid

    @property
    def label(self):
        """How messages and the summary name the point: its name, else its id, else where it is declared (a
        point whose name is empty, blank or not a string has neither; the schema reported that already)."""
        return self.raw_name or self.id or format_path(self.parts)

    def same_point_as(self, other):
        if self.id and other.id:
            return self.id == other.id
        return self.key is not None and self.key == other.key

    def differences(self, other):
        fields = [f for f in MANAGED_FIELDS if self.desired.get(f) != other.desired.get(f)]
        if self.state != other.state:
            fields.insert(0, "state")
        if self.id != other.id:
            fields.insert(0, "id")
        return fields


def _point_errors(index, spec, skip_fields, cross_checks):
    """The model's own checks, field by field so that one point can report several bad fields.

    ``skip_fields`` already failed the schema; ``cross_checks`` (rules between fields, such as a KPP with a
    12-digit INN) run only when every field is valid. Returns ``(errors, canonical attributes or None)``."""
    prefix = "%s[%d]." % (POINTS_VAR, index)
    errors = []
    for field in MANAGED_FIELDS:
        if field in spec and field not in skip_fields:
            try:
                canonical_desired({field: spec[field]}, prefix)
            except PointInputError as exc:
                errors.append(FleetError((POINTS_VAR, index, field), exc.rule))
    if errors or not cross_checks:
        return errors, None
    try:
        return errors, canonical_desired(spec, prefix)
    except PointInputError as exc:
        return [FleetError((POINTS_VAR, index, exc.path.rsplit(".", 1)[-1]), exc.rule)], None


def _describe(value):
    return json.dumps(value, ensure_ascii=False) if value is not None else "not set"


def _entry(point):
    """``modulkassa_points[0] ('Shop 1', id ...)``: an earlier declaration, as a message names it."""
    details = ", ".join(part for part in (repr(point.raw_name) if point.raw_name else None,
                                          "id %s" % point.id if point.id else None) if part)
    return "%s[%d]%s" % (POINTS_VAR, point.index, " (%s)" % details if details else "")


def _declaration_errors(declared):
    """Duplicate names and points declared twice (with the same or different attributes)."""
    errors = []
    by_name, by_id = {}, {}
    for point in declared:
        earlier = None
        if point.id and point.id in by_id:
            earlier = by_id[point.id]
        elif point.key and point.key in by_name:
            earlier = by_name[point.key]
        if earlier is not None:
            where = "%s[%d]" % (POINTS_VAR, earlier.index)
            if not point.same_point_as(earlier):
                folded = " (%s)" % _FOLDING if point.raw_name != earlier.raw_name else ""
                errors.append(FleetError(point.parts + ("name",), "duplicate point name %r: %s has it too%s; names "
                                         "are unique within an account" % (point.raw_name, _entry(earlier), folded)))
            elif point.desired is None or earlier.desired is None:
                pass  # the bad attributes are reported already; comparing them would only add noise
            else:
                fields = point.differences(earlier)
                if not fields:
                    errors.append(FleetError(point.parts + ("name" if point.raw_name else "id",),
                                             "duplicate point name %r: %s declares the same point with the same "
                                             "attributes; remove one" % (point.label, where)))
                else:
                    shown = ", ".join("%s %s here, %s there" % (
                        field, _describe(point.desired.get(field) if field in MANAGED_FIELDS else getattr(point, field)),
                        _describe(earlier.desired.get(field) if field in MANAGED_FIELDS else getattr(earlier, field)))
                        for field in fields[:3])
                    same_id = bool(point.id) and point.id == earlier.id
                    folded = "; %s" % _FOLDING if point.raw_name != earlier.raw_name and not same_id else ""
                    errors.append(FleetError(point.parts, "point %r is declared twice with different attributes (also "
                                             "at %s: %s%s); declare it once" % (point.label, where, shown, folded)))
        if point.id:
            by_id.setdefault(point.id, point)
        if point.key:
            by_name.setdefault(point.key, point)
    return errors


# ---- registers and their references ---------------------------------------------------------------------

class _References(object):
    """Resolves a register's point references (names or ids) against the declared points."""

    def __init__(self, all_points, declared):
        self.by_name, self.by_id = {}, {}  # by_name: by point_name_key, as every name comparison
        for point in declared:
            if point.key:
                self.by_name.setdefault(point.key, point)
            if point.id:
                self.by_id.setdefault(point.id, point)
        # Names of points whose declaration is broken: a reference to them is not "undeclared".
        self.known_broken = set()
        for spec in all_points:
            if isinstance(spec, dict):
                for key in ("name", "id"):
                    if isinstance(spec.get(key), str):
                        self.known_broken.add(point_id_key(spec[key]) if key == "id" else point_name_key(spec[key]))
        self.holder = {}  # point index -> path parts of the first register reference to it

    def check(self, parts, references):
        errors, seen_here = [], {}
        for position, reference in enumerate(references):
            if not isinstance(reference, str) or not reference.strip():
                continue  # the schema reported it
            ref = reference.strip()
            ref_parts = parts + (position,)
            point = self.by_id.get(point_id_key(ref)) if is_point_id(ref) else self.by_name.get(point_name_key(ref))
            if point is None:
                if (point_id_key(ref) if is_point_id(ref) else point_name_key(ref)) in self.known_broken:
                    continue
                suggestion = _close(ref, [p.raw_name for p in self.by_name.values()]) if not is_point_id(ref) else None
                errors.append(FleetError(ref_parts, "names retail point %r, which %s does not declare%s" % (
                    ref, POINTS_VAR, " (did you mean %r?)" % suggestion if suggestion else "")))
                continue
            if point.state == "absent":
                errors.append(FleetError(ref_parts, "names retail point %r, which %s declares absent (%s[%d])"
                                         % (ref, POINTS_VAR, POINTS_VAR, point.index)))
                continue
            if point.index in seen_here:
                errors.append(FleetError(ref_parts, "names retail point %r twice (also [%d])" % (point.label, seen_here[point.index])))
                continue
            seen_here[point.index] = position
            if point.index in self.holder:
                errors.append(FleetError(ref_parts, "retail point %r is also served by %s; a point is active on one "
                                         "register at a time, so the two would take it from each other on every run"
                                         % (point.label, format_path(self.holder[point.index]))))
                continue
            self.holder[point.index] = ref_parts
        return errors


def _manual_register_errors(document, references):
    errors, names = [], {}
    manual = document.get(MANUAL_REGISTERS_VAR)
    if not isinstance(manual, list):
        return errors
    for index, register in enumerate(manual):
        if not isinstance(register, dict):
            continue
        name = register.get("name")
        if isinstance(name, str) and name.strip():
            # Staff tell these registers apart by name too: compared like point names.
            key = point_name_key(name)
            if key in names:
                earlier_index, earlier = names[key]
                errors.append(FleetError((MANUAL_REGISTERS_VAR, index, "name"), "duplicates %s[%d].name (%r)%s"
                                         % (MANUAL_REGISTERS_VAR, earlier_index, earlier,
                                            " (%s)" % _FOLDING if earlier != name.strip() else "")))
            names.setdefault(key, (index, name.strip()))
        if isinstance(register.get("retail_points"), list):
            errors.extend(references.check((MANUAL_REGISTERS_VAR, index, "retail_points"), register["retail_points"]))
    if manual and not document.get(CODE_FILE_VAR):
        errors.append(FleetError((CODE_FILE_VAR,), "is required when %s is not empty: the sealed file (mode 0600) that "
                                 "receives their activation codes" % MANUAL_REGISTERS_VAR))
    return errors


def _register_identity_errors(document, hosts):
    """Serials: unique across the register hosts, and required where the bindings are read from the cabinet."""
    errors, by_serial = [], {}
    default_via = document.get(REGISTERS_VIA_VAR) or "ssh"
    for host in sorted(hosts):
        variables = hosts[host] if isinstance(hosts[host], dict) else {}
        serial = variables.get(REGISTER_SERIAL_VAR)
        if isinstance(serial, str) and serial.strip() == serial and serial:  # else the schema reported it
            if serial in by_serial:
                errors.append(FleetError(("hosts", host, REGISTER_SERIAL_VAR), "%r is also the serial of %s: a serial "
                                         "names one register" % (serial, format_path(("hosts", by_serial[serial])))))
            by_serial.setdefault(serial, host)
        elif serial is None and variables.get(REGISTERS_VIA_VAR, default_via) == "cabinet":
            errors.append(FleetError(("hosts", host, REGISTER_SERIAL_VAR), "is required when %s is cabinet: the cabinet "
                                     "names the register holding a point only by its serial" % REGISTERS_VIA_VAR))
    return errors


# ---- the whole document ----------------------------------------------------------------------------------

def _part(key):
    return key if isinstance(key, (str, int)) and not isinstance(key, bool) else str(key)


def _size_errors(document):
    """Variables too large once YAML aliases are expanded (``_data_size``), each named by its path; returns
    ``(errors, the document without them)``.

    Runs before anything copies the data (``plain``, jsonschema): a copy of an alias bomb is what must not happen.
    """
    budget, errors = SizeBudget(), []

    def fits(parts, value):
        try:
            budget.spend(format_path(parts), value)
        except DataTooLarge as exc:
            errors.append(FleetError(parts, exc.rule))
            return False
        return True

    if not isinstance(document, Mapping):
        return errors, (document if fits((), document) else None)
    kept = {}
    for name, value in document.items():
        if name == "hosts" and isinstance(value, Mapping):
            hosts = kept[name] = {}
            for host, variables in value.items():
                if not isinstance(variables, Mapping):
                    if fits(("hosts", _part(host)), variables):
                        hosts[host] = variables
                    continue
                hosts[host] = dict((variable, item) for variable, item in variables.items()
                                   if fits(("hosts", _part(host), _part(variable)), item))
        elif fits((_part(name),), value):
            kept[name] = value
    return errors, kept


def validate_fleet(document):
    """Check a fleet document; returns ``(errors, summary)``. ``errors`` is empty when the data is valid."""
    size_errors, document = _size_errors(document)
    oversized = set(error.parts for error in size_errors)
    if size_errors and (not isinstance(document, Mapping) or (POINTS_VAR,) in oversized):
        return size_errors, {}  # without the points (or any document) nothing else can be checked meaningfully
    document = plain(document)
    errors = _schema_errors(document) if isinstance(document, dict) else [FleetError((), "must be a mapping")]
    if not isinstance(document, dict):
        return errors, {}
    schema_paths = set(error.parts for error in errors)

    all_points = document.get(POINTS_VAR) if isinstance(document.get(POINTS_VAR), list) else []
    declared = []
    for index, spec in enumerate(all_points):
        if not isinstance(spec, dict) or (POINTS_VAR, index) in schema_paths:
            continue  # not a mapping, or neither name nor id: nothing more to say about it
        bad_fields = set(parts[2] for parts in schema_paths if parts[:2] == (POINTS_VAR, index) and len(parts) > 2)
        point = _Declared(index, spec)
        point_errors, point.desired = _point_errors(index, spec, bad_fields, cross_checks=not bad_fields)
        errors.extend(point_errors)
        declared.append(point)
    errors.extend(_declaration_errors(declared))

    references = _References(all_points, declared)
    hosts = document.get("hosts") if isinstance(document.get("hosts"), dict) else {}
    for host in sorted(hosts):
        refs = hosts[host].get(REGISTER_POINTS_VAR) if isinstance(hosts[host], dict) else None
        if isinstance(refs, list):
            errors.extend(references.check(("hosts", host, REGISTER_POINTS_VAR), refs))
    errors.extend(_register_identity_errors(document, hosts))
    errors.extend(_manual_register_errors(document, references))

    # A variable left out for its size is not also "required" (or anything else): one message per field.
    errors = size_errors + [error for error in errors if error.parts[:3] not in oversized and error.parts[:2] not in
                            oversized and error.parts[:1] not in oversized]
    errors.sort(key=sort_key)
    served = set(references.holder)
    present = [p for p in declared if p.state == "present"]
    manual = document.get(MANUAL_REGISTERS_VAR) if isinstance(document.get(MANUAL_REGISTERS_VAR), list) else []
    summary = {
        "points": len(present),
        "points_absent": len(declared) - len(present),
        "purge": bool(document.get(PURGE_VAR)),
        "registers": len(hosts),
        "manual_registers": len(manual),
        "bindings": len(served),
        "points_without_register": sorted(p.label for p in present if p.index not in served),
    }
    return errors, summary
