# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan and apply retail-point changes: the one planner behind ``retail_point`` and ``retail_points``.

``plan_points`` is pure (desired specs + the cabinet's list -> a list of ``PointChange``); ``apply_plan``
performs the writes with bounded concurrency, or, in check mode, predicts their outcome without writing.
``changed``, the diff (``PointChange.before/after``, rendered by plugin_utils._diff) and the per-point results
are all derived from the same ``PointChange`` objects.

``purge`` deletes the account's points that the declaration does not name, behind guards (docs/fleet.md "Purge
guards"): a point active on a register, one whose tax-office registration is under way, and one matching
``purge_exclude`` is kept (action ``keep``, with its ``reason``), and a purge that would delete more than
``purge_max`` points, or every point while the declaration names none, is refused before any write.
"""

from __future__ import annotations

import collections
import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import (
    CabinetConflict,
    CabinetError,
    CabinetNotFound,
    WritesStopped,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._health import health_of
from ansible_collections.modulkassa.pos.plugins.module_utils._ids import is_point_id, point_id_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_index import AmbiguousName, PointIndex
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    DELETABLE_REGISTRATION_STATES,
    KKT_NOT_PLUGGED,
    MANAGED_FIELDS,
    PURGE_MAX_DEFAULT,
    PURGE_NO_LIMIT,
    PointInputError,
    activation_of,
    api_body,
    canonical_actual,
    canonical_desired,
    changed_fields,
    name_matches,
    point_id_for,
    point_name_key,
    register_label,
    registration_blocks_delete,
    registration_of,
    tax_mode_notices,
    with_implied_fields,
)

CREATE, UPDATE, DELETE, UNCHANGED, ABSENT = "create", "update", "delete", "unchanged", "absent"
# A point the purge would delete but a guard keeps: nothing is written, the result says why (``reason``).
KEEP = "keep"
ACTIONS = (CREATE, UPDATE, DELETE, UNCHANGED, ABSENT, KEEP)
WRITE_ACTIONS = (CREATE, UPDATE, DELETE)
PURGE_SOURCE = "purge"

_NAMES_IN_MESSAGE = 5

# The cabinet's answer to a DELETE of a point whose registration is under way.
DELETE_FORBIDDEN_CODE = "retail-point-delete-forbidden"


# One declared point as ``normalize_specs`` checked it: where it is declared (``points[3]``), ``present`` or
# ``absent``, its id (a lower-case UUID) or None, and its canonical managed fields.
DeclaredPoint = collections.namedtuple("DeclaredPoint", ("source", "state", "id", "desired"))


class PlanError(Exception):
    """The desired state cannot be planned against the cabinet as it is (e.g. an ambiguous name)."""


class PurgeRefused(PlanError):
    """A purge that would delete too much (``purge_max``, or the whole account from an empty declaration):
    refused before any write. ``changes`` is the plan that was refused, for the task's result."""

    def __init__(self, message, changes):
        super(PurgeRefused, self).__init__(message)
        self.changes = changes


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
        self.outcome = "planned"  # planned -> done | failed | not_attempted | predicted | unchanged
        self.point = current  # the cabinet's object after the change (predicted in check mode)
        self.error = None
        # What the user should know that is not a change nor a failure: a tax mode that was abolished, a delete that
        # takes the point from its register or that the cabinet will refuse.
        self.notices = []
        self.guards = []  # KEEP: the guards that hold the point (GUARD_ACTIVE, ...)
        self.reason = None  # KEEP: why, one sentence per guard
        self.fingerprint = None  # of ``current`` as read (_fingerprint.py), set by the PointPlan

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
        held_by = _held_by(self.current) if self.action == DELETE else None
        if held_by:
            before["register"] = held_by  # the diff of a delete says the register loses the point
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
            changes = {"state": {"before": "present", "after": "absent"}}
            held_by = _held_by(self.current)
            if held_by:
                changes["register"] = {"before": held_by, "after": None}
            return changes
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
            entry["health"] = health_of(self.point)
        elif self.current is not None and self.action == DELETE:
            entry["activation"] = activation_of(self.current)  # as the cabinet showed it before the delete
        if self.action == KEEP:
            entry["guards"] = list(self.guards)
            entry["reason"] = self.reason
        if self.error:
            entry["error"] = self.error
        if self.notices:
            entry["notices"] = list(self.notices)
        return entry


def _held_by(point):
    """The serial of the register an active point is on (a description when the cabinet names none), else None."""
    if not point:
        return None
    activation = activation_of(point)
    if not activation["active"]:
        return None
    return activation["register_serial"] or "unknown serial (kktStatus %s)" % activation["kkt_status"]


def purge_exclusions(entries, path="purge_exclude"):
    """The ``purge_exclude`` entries, checked before any request: each a non-empty string (a name, a shell-style
    name pattern or a point id). Returns them stripped, in order."""
    if entries is None:
        return ()
    if not isinstance(entries, (list, tuple)):
        raise PointInputError(path, "must be a list of names, name patterns or ids")
    checked = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip():
            raise PointInputError("%s[%d]" % (path, index), "must be a non-empty string: a name, a shell-style "
                                  "name pattern or a point id")
        checked.append(entry.strip())
    return tuple(checked)


def check_purge_max(value, path="purge_max"):
    """``purge_max`` is -1 (no limit) or a count (0 or more)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < PURGE_NO_LIMIT:
        raise PointInputError(path, "must be a number of points (0 or more), or -1 for no limit")
    return value


def excluded_by(point, exclusions):
    """The first ``purge_exclude`` entry that designates the cabinet ``point``, or None.

    An entry designates a point whose id it is (compared in lower case, as the cabinet stores ids) or whose name it
    matches (``name_matches``: a shell-style pattern on the whole name, compared as names are)."""
    point_id = str(point.get("id") or "").lower()
    name = canonical_actual(point)["name"]
    for entry in exclusions:
        if entry.lower() == point_id or name_matches(name, entry):
            return entry
    return None


GUARD_ACTIVE, GUARD_REGISTRATION, GUARD_EXCLUDED = "active", "registration", "purge_exclude"


def keep_reasons(point, exclusions=()):
    """Why a purge must not delete this cabinet point: ``[(guard, sentence)]``, one per guard that holds it (empty:
    it may go). ``guard`` is ``active``, ``registration`` or ``purge_exclude``."""
    reasons = []
    activation = activation_of(point)
    if activation["active"]:
        # The register sells under this point: deleting it would stop the shop (docs/fleet.md "Purge guards").
        reasons.append((GUARD_ACTIVE, "active on %s (kktStatus %s)" % (register_label(activation),
                                                                       activation["kkt_status"])))
    if registration_blocks_delete(point):
        # The cabinet itself refuses the delete (409) until the tax office's answer is in.
        reasons.append((GUARD_REGISTRATION, "its tax-office registration is under way (registrationRequestStatus %s)"
                        % registration_of(point)))
    entry = excluded_by(point, exclusions)
    if entry is not None:
        by_id = entry.lower() == str(point.get("id") or "").lower()
        reasons.append((GUARD_EXCLUDED, "%s purge_exclude entry %r" % (
            "its id is the" if by_id else "its name matches the", entry)))
    return reasons


def delete_notices(point):
    """What the plan says about an explicit delete (``state: absent``) of this cabinet point."""
    notices = []
    activation = activation_of(point)
    if activation["active"]:
        notices.append("deleting it takes it from %s (kktStatus %s): that register can no longer sell under it"
                       % (register_label(activation), activation["kkt_status"]))
    if registration_blocks_delete(point):
        notices.append("the cabinet refuses to delete it while its tax-office registration is under way "
                       "(registrationRequestStatus %s; a point can be deleted in %s): the delete fails until the "
                       "request ends" % (registration_of(point), ", ".join(DELETABLE_REGISTRATION_STATES)))
    return notices


def _names(changes):
    shown = ", ".join(repr(c.name or c.id) for c in changes[:_NAMES_IN_MESSAGE])
    more = len(changes) - _NAMES_IN_MESSAGE
    return shown + (" and %d more" % more if more > 0 else "")


def check_purge_limit(changes, normalized, purge_max):
    """Refuse (``PurgeRefused``) a purge that deletes more than ``purge_max`` points, or any point while the
    declaration names none as present (an empty or lost list would otherwise empty the account). Runs on the whole
    plan, before any write: nothing is created or updated either. Explicit ``state: absent`` entries are not
    counted: each names its point."""
    purged = [c for c in changes if c.source == PURGE_SOURCE and c.action == DELETE]
    if not purged or purge_max == PURGE_NO_LIMIT:
        return
    nothing = "Nothing was written (no create, update or delete)."
    if not any(state != "absent" for dummy, state, dummy_id, dummy_desired in normalized):
        raise PurgeRefused(
            "purge would delete every point of the account that no guard keeps (%d: %s), because the list declares "
            "no point as present: an empty or truncated list? %s To empty the account on purpose, set purge_max "
            "(the fleet variable modulkassa_points_purge_max) to -1 (no limit) for that run."
            % (len(purged), _names(purged), nothing), changes)
    if len(purged) > purge_max:
        raise PurgeRefused(
            "purge would delete %d points that the list does not declare, more than purge_max allows (%d): %s. %s "
            "If the list is complete and they are to go, raise purge_max (the fleet variable "
            "modulkassa_points_purge_max) to %d or more for this run, or set it to -1 for no limit; to keep some, "
            "declare them or add them to purge_exclude." % (
                len(purged), purge_max, _names(purged), nothing, len(purged)), changes)


def _find_current(spec_id, name, index):
    """The cabinet point a declaration designates. A name equal to a cabinet point's only after folding
    (``point_name_key``: another case or spacing) is that point, so the update shows the spelling change
    instead of creating a near-duplicate."""
    if spec_id:
        return index.get(spec_id)
    try:
        return index.find_named(name)
    except AmbiguousName as exc:
        raise PlanError(str(exc))


def normalize_specs(specs, path_prefix="points"):
    """Validate every declared point before any request; returns ``[DeclaredPoint]``."""
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
            spec_id = point_id_key(spec_id)  # as the cabinet stores ids
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
        normalized.append(DeclaredPoint(source, str(state), str(spec_id) if spec_id else None, desired))
    return normalized


def plan_points(normalized, actual_points, login, purge=False, purge_exclude=(), purge_max=PURGE_MAX_DEFAULT):
    """Compare declared points (from ``normalize_specs``) with the cabinet's list; makes no request.

    With ``purge``, every cabinet point the declaration does not designate is deleted, unless a guard keeps it
    (``keep_reasons``: active on a register, registration under way, ``purge_exclude``); raises ``PurgeRefused``
    when the deletes exceed ``purge_max`` (``check_purge_limit``)."""
    exclusions = purge_exclusions(purge_exclude)
    purge_max = check_purge_max(purge_max)
    index = PointIndex(actual_points)
    matched, changes = set(), []
    for source, state, spec_id, desired in normalized:
        current = _find_current(spec_id, desired.get("name"), index)
        name = desired.get("name") or (current and current.get("name")) or spec_id
        if current is not None:
            matched.add(current["id"])
        if state == "absent":
            # An explicit delete is done whatever the guards say (it names its point); the plan says what it costs.
            action = DELETE if current is not None else ABSENT
            change = PointChange(action, name, current["id"] if current else spec_id, {}, current, source=source)
            if current is not None:
                change.notices = delete_notices(current)
            changes.append(change)
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
                reasons = keep_reasons(point, exclusions)
                change = PointChange(KEEP if reasons else DELETE, point.get("name"), point["id"], {}, point,
                                     source=PURGE_SOURCE)
                change.guards = [guard for guard, dummy in reasons]
                change.reason = "; ".join(sentence for dummy, sentence in reasons) or None
                changes.append(change)
        check_purge_limit(changes, normalized, purge_max)
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
    except CabinetConflict as exc:
        if exc.code != DELETE_FORBIDDEN_CODE:
            raise
        # The cabinet's code alone does not say why; the registration state does (it may have changed since the list).
        listed = registration_of(change.current) if change.current else None
        raise CabinetConflict(
            "the cabinet refuses to delete it while its tax-office registration is under way (%sa point can be "
            "deleted in %s): wait until the request ends, or withdraw it in the cabinet; %s" % (
                "registrationRequestStatus %s when listed; " % listed if listed else "",
                ", ".join(DELETABLE_REGISTRATION_STATES), exc),
            status=exc.status, code=exc.code, method=exc.method, path=exc.path)


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
    counts = dict((action, 0) for action in ACTIONS)
    for change in changes:
        counts[change.action] += 1
    return counts
