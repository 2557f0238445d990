# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fingerprints: what a plan was made against, as a sha256 of canonical JSON (no secret goes into one).

A saved plan (docs/gitops.md "Saved plans") keeps the fingerprint of every object it plans; the apply reads the
object again and refuses when the fingerprint differs. A fingerprint covers the **managed state** only, so a change
the plan does not depend on (a register's health, the time of its last sale) does not make a plan stale:

- a retail point: its id, its managed fields as the comparison sees them (``canonical_actual``), whether it is
  active and on which register, and its tax-office registration state (the purge guards and the delete notices
  depend on those two). Absent: ``{"state": "absent"}``. The activation code is never part of it.
- a register: its serial, the ids of the points its agent lists, and which register the cabinet says holds each of
  its declared points that one holds (a point rebound by hand changes the plan of both registers; a point the run
  creates is held by none, so its creation does not).
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    activation_of,
    canonical_actual,
    registration_of,
)


def canonical_json(value):
    """The one serialisation every fingerprint and digest hashes: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value):
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def point_state(point):
    """The managed state of a cabinet point (None: absent) that its fingerprint hashes."""
    if point is None:
        return {"state": "absent"}
    activation = activation_of(point)
    return {
        "id": str(point.get("id") or "").lower(),
        "fields": canonical_actual(point),
        "active": activation["active"],
        "register": activation["register_serial"] if activation["active"] else None,
        "registration": registration_of(point),
    }


def point_fingerprint(point):
    return digest(point_state(point))


def register_state(serial, bindings, declared_holders):
    """The managed state of a register: ``bindings`` from its agent, ``declared_holders`` ``{point id: serial}`` of
    its declared points that a register holds."""
    return {
        "serial": serial,
        "retail_points": sorted(str(b.get("retailPointId")).lower() for b in bindings or () if b.get("retailPointId")),
        "held": sorted([str(point_id).lower(), holder] for point_id, holder in (declared_holders or {}).items() if holder),
    }


def register_fingerprint(serial, bindings, declared_holders):
    return digest(register_state(serial, bindings, declared_holders))
