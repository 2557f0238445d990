# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The JSON Schema (Draft 2020-12) of the fleet data: the one copy in the collection.

The validator (``_fleet_inventory.py``) assembles a *fleet document* from the inventory: the controller's
fleet variables at the top, and each register host's under ``hosts.<name>``. This schema describes that
document. ``docs/fleet.schema.json`` is this dict written out for editors and other tools; a unit test keeps
the two equal (regenerate it with ``.venv/bin/python tests/unit/plugins/module_utils/test_fleet_schema.py --write``).

The schema checks the shape (types, unknown keys, enums, simple formats). What it cannot express (INN
checksums, phone normalisation, duplicates, references between points and registers) is checked in Python,
reusing ``_point_model`` so the fleet validator and the modules never disagree about a value.

Keys named ``x-error`` are annotations (2020-12 ignores unknown keywords): the validator shows them instead of
jsonschema's generic message for a failed ``pattern``/``anyOf``.
"""

from __future__ import annotations

from ansible_collections.modulkassa.pos.plugins.module_utils._ids import POINT_ID_PATTERN
from ansible_collections.modulkassa.pos.plugins.module_utils._point_fields import FIELDS
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import PURGE_MAX_DEFAULT, PURGE_NO_LIMIT

SCHEMA_ID = "https://github.com/modulkassa-pos/modulkassa.pos/blob/main/docs/fleet.schema.json"

# Variables read on the controller (localhost): every register host sees the same value through group_vars/all.
POINTS_VAR = "modulkassa_points"
PURGE_VAR = "modulkassa_points_purge"
# The purge guards (docs/fleet.md "Purge guards"): retail_points' purge_exclude and purge_max.
PURGE_EXCLUDE_VAR = "modulkassa_points_purge_exclude"
PURGE_MAX_VAR = "modulkassa_points_purge_max"
MANUAL_REGISTERS_VAR = "modulkassa_manual_registers"
CODE_FILE_VAR = "modulkassa_code_file"
# How the roles talk to the cabinet (docs/fleet.md "The variables"): one value for the whole fleet, since every
# cabinet request comes from the controller.
TIMEOUT_VAR = "modulkassa_timeout"
RETRIES_VAR = "modulkassa_retries"
POINTS_CONCURRENCY_VAR = "modulkassa_points_concurrency"
CONTROLLER_VARIABLES = (POINTS_VAR, PURGE_VAR, PURGE_EXCLUDE_VAR, PURGE_MAX_VAR, MANUAL_REGISTERS_VAR, CODE_FILE_VAR,
                        TIMEOUT_VAR, RETRIES_VAR, POINTS_CONCURRENCY_VAR)

# Variables read per register host (host_vars, or the vars of the register's groups).
REGISTER_POINTS_VAR = "modulkassa_register_points"
REGISTER_SERIAL_VAR = "modulkassa_register_serial"
REGISTERS_VIA_VAR = "modulkassa_registers_via"
REGISTER_VARIABLES = (REGISTER_POINTS_VAR, REGISTER_SERIAL_VAR, REGISTERS_VIA_VAR)
# Register variables that may also be set for the whole fleet (group_vars/all, extra vars): the controller then
# sees them too, they are validated once at the top of the document and are every register's default.
FLEET_WIDE_REGISTER_VARIABLES = (REGISTERS_VIA_VAR,)
# How the bindings of a register are read: over SSH from its agent (the default), or from the cabinet alone.
REGISTERS_VIA_CHOICES = ("ssh", "cabinet")

# modulkassa_* variables that are not fleet data but are known, so that the typo check leaves them alone:
# connection settings for module_defaults, the agent's path, the sandbox's generated serials.
OTHER_KNOWN_VARIABLES = (
    "modulkassa_url",
    "modulkassa_login",
    "modulkassa_password",
    "modulkassa_ca_path",
    "modulkassa_validate_certs",
    "modulkassa_agent_path",
    "modulkassa_saved_plan",  # modulkassa-plan --apply: the plan file (docs/gitops.md)
    "modulkassa_record_plan",  # modulkassa-plan --out / --apply: plugins return their plan entries
)

# A point of modulkassa_points: its name, its id and state, then the other attributes of the field table.
_POINT_PROPERTIES = dict((field.name, field.schema_property()) for field in FIELDS)
_POINT_PROPERTIES = dict([("name", _POINT_PROPERTIES.pop("name")), ("id", {
    "type": "string", "pattern": POINT_ID_PATTERN,
    "x-error": "must be a UUID such as 0b1e6cba-3f7e-5d59-9c1f-4a5ef07f1c3a",
    "description": "The cabinet's id; only for points created outside this collection.",
}), ("state", {"enum": ["present", "absent"]})] + list(_POINT_PROPERTIES.items()))
POINT_KEYS = tuple(_POINT_PROPERTIES)

_REGISTERS_VIA = {
    "enum": list(REGISTERS_VIA_CHOICES),
    "description": (
        "How the bindings of a register are audited: ssh (the default) reads them from the register's agent and can "
        "bind; cabinet reads them from the cabinet alone (an active point's kkmInfo.serialNumber), needs no SSH and "
        "only audits. Needs modulkassa_register_serial."
    ),
}

_POINT_REFERENCE = {
    "type": "string",
    "minLength": 1,
    "pattern": "\\S",
    "x-error": "must name a retail point (its name or its id)",
    "description": "A retail point declared in modulkassa_points, by its name or by its id.",
}

FLEET_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "modulkassa.pos fleet data",
    "description": (
        "The desired state of a ModulKassa estate as the modulkassa.pos.fleet_validate action assembles it from an "
        "Ansible inventory: the controller's fleet variables (group_vars/all) at the top level, each register host's "
        "variables under hosts.<inventory name>. Other Ansible variables may sit beside the fleet variables in the "
        "same files; the validator reads only the ones described here."
    ),
    "type": "object",
    "required": [POINTS_VAR],
    "properties": {
        POINTS_VAR: {
            "description": "The retail points of the cabinet account (the modulkassa.pos.retail_points points option).",
            "type": "array",
            "items": {"$ref": "#/$defs/point"},
        },
        PURGE_VAR: {
            "description": (
                "Delete the account's points that modulkassa_points does not declare, except those the purge guards "
                "keep: points active on a register, points whose tax-office registration is under way, and points "
                "matching modulkassa_points_purge_exclude."
            ),
            "type": "boolean",
        },
        PURGE_EXCLUDE_VAR: {
            "description": (
                "Points the purge never deletes (those other integrations own): point ids (compared in lower case) "
                "or shell-style patterns matched against the whole name (*, ?, [...]), compared as point names are "
                "(ignoring letter case and runs of whitespace). Default: none."
            ),
            "type": "array",
            "items": {"type": "string", "minLength": 1, "pattern": "\\S", "x-error": "must not be blank",
                      "description": "A point id, a name, or a shell-style name pattern."},
        },
        PURGE_MAX_VAR: {
            "description": (
                "The most points one purge may delete (default %d); a purge that would delete more fails before any "
                "write. %d: no limit." % (PURGE_MAX_DEFAULT, PURGE_NO_LIMIT)
            ),
            "type": "integer",
            "minimum": PURGE_NO_LIMIT,
        },
        MANUAL_REGISTERS_VAR: {
            "description": (
                "Registers that are not reachable over SSH. Their points get a pending activation code, written to "
                "modulkassa_code_file, which staff type on the register's screen."
            ),
            "type": "array",
            "items": {"$ref": "#/$defs/manual_register"},
        },
        CODE_FILE_VAR: {
            "description": (
                "Path on the controller of the sealed JSON file (mode 0600) that receives the activation codes of the "
                "points of modulkassa_manual_registers. Keep it out of git."
            ),
            "type": "string",
            "pattern": "^(/|~)",
            "x-error": "must be an absolute path on the controller (or start with ~)",
        },
        TIMEOUT_VAR: {
            "description": (
                "Seconds the roles' cabinet requests wait to connect, send or answer (the plugins' timeout option). "
                "Unset: the play's module_defaults for group/modulkassa.pos.cabinet, then 30."
            ),
            "type": "number",
            "exclusiveMinimum": 0,
        },
        RETRIES_VAR: {
            "description": (
                "How many times the roles retry a cabinet request that is safe to repeat, after HTTP 429, HTTP 5xx or "
                "a network error (the plugins' retries option; 0: no retry). Unset: the play's module_defaults for "
                "group/modulkassa.pos.cabinet, then 3."
            ),
            "type": "integer",
            "minimum": 0,
        },
        POINTS_CONCURRENCY_VAR: {
            "description": "How many cabinet writes the retail_points role runs at the same time (default 16).",
            "type": "integer",
            "minimum": 1,
            "maximum": 64,
        },
        REGISTERS_VIA_VAR: dict(_REGISTERS_VIA, description="Every register's default (group_vars/all or extra vars). "
                                + _REGISTERS_VIA["description"]),
        "hosts": {
            "description": "The register hosts (the inventory group 'registers'), by inventory name.",
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/register_host"},
        },
    },
    "$defs": {
        "point": {
            "description": "One retail point: the same keys as the points option of modulkassa.pos.retail_points.",
            "type": "object",
            "additionalProperties": False,
            "anyOf": [{"required": ["name"]}, {"required": ["id"]}],
            "x-error": "needs a name (or the id of a point created elsewhere)",
            "properties": _POINT_PROPERTIES,
        },
        "register_host": {
            "description": "The fleet variables of one register host.",
            "type": "object",
            "additionalProperties": False,
            "required": [REGISTER_POINTS_VAR],
            "properties": {
                REGISTER_POINTS_VAR: {
                    "description": (
                        "The points this register serves (and, with the registers role's default, the only ones). "
                        "An empty list releases every point the register holds."
                    ),
                    "type": "array",
                    "items": _POINT_REFERENCE,
                },
                REGISTER_SERIAL_VAR: {
                    "description": (
                        "The register's serial number as the cabinet shows it (kkmInfo.serialNumber of the points it "
                        "holds); unique. Required when the register is audited from the cabinet."
                    ),
                    "type": "string",
                    "pattern": "^\\S(.*\\S)?$",
                    "x-error": "must be a serial number without leading or trailing blanks",
                },
                REGISTERS_VIA_VAR: _REGISTERS_VIA,
            },
        },
        "manual_register": {
            "description": "A register without SSH: staff type the codes of its points by hand.",
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "retail_points"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "pattern": "\\S", "x-error": "must not be blank",
                         "description": "A label staff recognise (unique)."},
                "retail_points": {"type": "array", "minItems": 1, "items": _POINT_REFERENCE},
                "description": {"type": "string"},
            },
        },
    },
}
