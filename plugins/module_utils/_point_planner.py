# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan and apply retail-point changes: the one planner behind ``retail_point`` and ``retail_points``.

``plan_points`` is pure (desired specs + the cabinet's list -> a list of ``PointChange``); ``apply_plan``
performs the writes with bounded concurrency, or, in check mode, predicts their outcome without writing.
``changed``, the diff (``PointChange.before/after``, rendered by plugin_utils._diff) and the per-point results
are all derived from the same ``PointChange`` objects.
"""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetConflict,
    CabinetError,
    CabinetNotFound,
    WritesStopped,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    KKT_NOT_PLUGGED,
    MANAGED_FIELDS,
    PointInputError,
    activation_of,
    api_body,
    canonical_actual,
    canonical_desired,
    changed_fields,
    index_by_name,
    is_point_id,
    point_id_for,
    point_name_key,
    points_named,
    tax_mode_notices,
    with_implied_fields,
)

CREATE, UPDATE, DELETE, UNCHANGED, ABSENT = "create", "update", "delete", "unchanged", "absent"
WRITE_ACTIONS = (CREATE, UPDATE, DELETE)


class PlanError(Exception):
    """The desired state cannot be planned against the cabinet as it is (e.g. an ambiguous name)."""


class PointChange(object):
    """One point's planned change and, after ``apply_plan``, its outcome."""

    def __init__(self, action, name, point_id, desired=None, current=None, fields=None, source=None):
        self.action = action
        self.name = name
        self.id = point_id
        self.desired = desired or {}
        self.current = current
        self.fields = fields or []
        self.source = source  # "points[3]" for declared points, "purge" for undeclared ones
        self.outcome = "planned"  # planned -> done | failed | not_attempted | predicted
        self.point = current  # the cabinet's object after the change (predicted in check mode)
        self.error = None
        self.notices = []  # what the cabinet holds that the user should change (an abolished tax mode), not failures

    @property
    def changed(self):
        return self.action in WRITE_ACTIONS

    def before(self):
        if self.action == CREATE or self.current is None:
            return {"state": "absent"}
        actual = canonical_actual(self.current)
        shown = MANAGED_FIELDS if self.action == DELETE else [f for f in MANAGED_FIELDS if f in self.desired]
        before = {"state": "present", "id": self.id}
        before.update((field, actual[field]) for field in shown)
        return before

    def after(self):
        if self.action in (DELETE, ABSENT):
            return {"state": "absent"}
        after = {"state": "present", "id": self.id}
        if self.current is not None:
            actual = canonical_actual(self.current)
            after.update((field, actual[field]) for field in MANAGED_FIELDS if field in self.desired)
        after.update(self.desired)
        return after

    def changes(self):
        """``{field: {"before", "after"}}`` for what differs: the structured form of the diff, in every mode.

        A create or a delete also shows ``state`` (absent -> present, present -> absent). Values are canonical
        (what the comparison used), so a report built from them agrees with ``changed`` field by field.
        """
        if self.action == CREATE:
            changes = {"state": {"before": "absent", "after": "present"}}
            changes.update((f, {"before": None, "after": self.desired[f]}) for f in MANAGED_FIELDS if f in self.desired)
            return changes
        if self.action == DELETE:
            return {"state": {"before": "present", "after": "absent"}}
        if self.action == UPDATE:
            actual = canonical_actual(self.current)
            return dict((f, {"before": actual[f], "after": self.desired[f]}) for f in self.fields)
        return {}

    def result(self):
        entry = {
            "name": self.name,
            "id": self.id,
            "action": self.action,
            "changed_fields": list(self.fields),
            "changes": self.changes(),
            "outcome": self.outcome,
        }
        if self.point is not None and self.action != DELETE:
            entry["activation"] = activation_of(self.point)
        if self.error:
            entry["error"] = self.error
        if self.notices:
            entry["notices"] = list(self.notices)
        return entry


def _index_actual(actual_points):
    by_id = dict((point["id"], point) for point in actual_points if isinstance(point, dict) and point.get("id"))
    return by_id, index_by_name(actual_points)


def _find_current(spec_id, name, by_id, by_name):
    """The cabinet point a declaration designates. A name equal to a cabinet point's only after folding
    (``point_name_key``: another case or spacing) is that point, so the update shows the spelling change
    instead of creating a near-duplicate."""
    if spec_id:
        return by_id.get(spec_id)
    matches = points_named(name, by_name) if name is not None else []
    if len(matches) > 1:
        raise PlanError("retail point name %r is ambiguous in the cabinet: ids %s (%s); identify it by id"
                        % (name, ", ".join(sorted(p["id"] for p in matches)),
                           "names are compared ignoring letter case and spaces"
                           if len(set(canonical_actual(p)["name"] for p in matches)) > 1 else "the same name"))
    return matches[0] if matches else None


def normalize_specs(specs, path_prefix="points"):
    """Validate every declared point before any request; returns ``[(source, state, id, canonical)]``."""
    normalized, seen_names, seen_ids = [], {}, {}
    for index, spec in enumerate(specs):
        source = "%s[%d]" % (path_prefix, index) if path_prefix else ""
        prefix = source + "." if source else ""
        if not isinstance(spec, dict):
            raise PointInputError(source or "point", "must be a mapping")
        state = spec.get("state") or "present"
        spec_id = spec.get("id")
        if spec_id is not None:
            if not isinstance(spec_id, str) or not spec_id.strip():
                raise PointInputError(prefix + "id", "must be a non-empty string")
            if not is_point_id(spec_id):
                raise PointInputError(prefix + "id", "must be a UUID (8-4-4-4-12 hexadecimal digits), as the cabinet's ids are")
            spec_id = spec_id.strip().lower()  # the cabinet stores ids in lower case
        desired = canonical_desired(spec, prefix)
        if not spec_id and "name" not in desired:
            raise PointInputError(prefix + "name", "is required unless id is given")
        if "name" in desired:
            key = point_name_key(desired["name"])
            if key in seen_names:
                where, earlier = seen_names[key]
                same = "" if earlier == desired["name"] else \
                    " (names are compared ignoring letter case and spaces: %r here)" % desired["name"]
                raise PointInputError(prefix + "name", "duplicates %s.name (%r)%s" % (where, earlier, same))
            seen_names[key] = (source or "point", desired["name"])
        if spec_id:
            if spec_id in seen_ids:
                raise PointInputError(prefix + "id", "duplicates %s.id" % seen_ids[spec_id])
            seen_ids[spec_id] = source or "point"
        normalized.append((source, str(state), str(spec_id) if spec_id else None, desired))
    return normalized


def plan_points(normalized, actual_points, login, purge=False):
    """Compare declared points (from ``normalize_specs``) with the cabinet's list; makes no request."""
    by_id, by_name = _index_actual(actual_points)
    matched, changes = set(), []
    for source, state, spec_id, desired in normalized:
        current = _find_current(spec_id, desired.get("name"), by_id, by_name)
        name = desired.get("name") or (current and current.get("name")) or spec_id
        if current is not None:
            matched.add(current["id"])
        if state == "absent":
            action = DELETE if current is not None else ABSENT
            changes.append(PointChange(action, name, current["id"] if current else spec_id, {}, current, source=source))
            continue
        if current is None:
            if "name" not in desired:
                raise PointInputError(source + ".name" if source else "name", "is required to create a point")
            new_id = spec_id or point_id_for(login, desired["name"])
            tax_mode_notices(desired, None, source + "." if source else "")
            desired = with_implied_fields(desired, {}, source + "." if source else "")  # what a new point needs
            changes.append(PointChange(CREATE, name, new_id, desired, None, sorted(desired), source))
            continue
        actual = canonical_actual(current)
        desired = with_implied_fields(desired, actual, source + "." if source else "")
        fields = changed_fields(desired, actual)
        change = PointChange(UPDATE if fields else UNCHANGED, name, current["id"], desired, current, fields, source)
        change.notices = tax_mode_notices(desired, actual, source + "." if source else "")
        changes.append(change)
    if purge:
        for point in actual_points:
            if isinstance(point, dict) and point.get("id") and point["id"] not in matched:
                changes.append(PointChange(DELETE, point.get("name"), point["id"], {}, point, source="purge"))
    return changes


def _deep_merge(base, patch):
    merged = copy.deepcopy(base) if base else {}
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _predict(change):
    if change.action == CREATE:
        predicted = {"kktStatus": KKT_NOT_PLUGGED, "posLinkToken": None, "kkmInfo": None}
        predicted.update(_deep_merge({"id": change.id}, api_body(change.desired)))
        return predicted
    if change.action == UPDATE:
        return _deep_merge(change.current, api_body({f: change.desired[f] for f in change.fields}))
    return None if change.action == DELETE else change.current


def _create(client, change):
    body = api_body(change.desired)
    body["id"] = change.id
    try:
        return client.create_point(body)
    except CabinetConflict:
        # The id exists: an earlier attempt committed before its answer was lost, or a concurrent run
        # created the same point (same uuid5). Converge the existing point instead of duplicating it.
        current = client.get_point(change.id)
        desired = with_implied_fields(change.desired, canonical_actual(current))
        fields = changed_fields(desired, canonical_actual(current))
        if not fields:
            return current
        return client.update_point(change.id, api_body({f: desired[f] for f in fields}))


def _delete(client, change):
    try:
        client.delete_point(change.id)
    except CabinetNotFound:
        pass  # already gone (a retried DELETE whose first answer was lost, or a concurrent run)


def _write(client, change, stopped):
    if stopped.is_set():
        change.outcome = "not_attempted"
        return
    try:
        if change.action == CREATE:
            change.point = _create(client, change)
        elif change.action == UPDATE:
            change.point = client.update_point(change.id, api_body({f: change.desired[f] for f in change.fields}))
        else:
            _delete(client, change)
            change.point = None
        change.outcome = "done"
    except WritesStopped as exc:
        # The run is over (the controller is gone): this write and every one after it stay undone, for the next
        # run to converge. Writes already sent finish; no thread starts a new one.
        stopped.set()
        change.outcome = "not_attempted"
        change.error = str(exc)
    except (CabinetError, PointInputError) as exc:  # PointInputError: a point raced into existence contradicts it
        change.outcome = "failed"
        change.error = str(exc)


def apply_plan(changes, client, check_mode=False, concurrency=8):
    """Perform (or, in check mode, predict) the writes; returns the changes that failed.

    When the client refuses a write because the run must stop (``WritesStopped``), no further write starts: the
    rest end ``not_attempted``."""
    writes = [c for c in changes if c.changed]
    for change in changes:
        if not change.changed:
            change.outcome = "unchanged"
    if check_mode:
        for change in writes:
            change.point = _predict(change)
            change.outcome = "predicted"
        return []
    stopped = threading.Event()
    if len(writes) == 1 or concurrency <= 1:
        for change in writes:
            _write(client, change, stopped)
    elif writes:
        with ThreadPoolExecutor(max_workers=min(concurrency, len(writes))) as pool:
            list(pool.map(lambda change: _write(client, change, stopped), writes))
    return [c for c in writes if c.outcome == "failed"]


def summary_of(changes):
    counts = dict((action, 0) for action in (CREATE, UPDATE, DELETE, UNCHANGED, ABSENT))
    for change in changes:
        counts[change.action] += 1
    return counts
