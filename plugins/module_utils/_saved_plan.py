# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Saved plans: the file ``modulkassa-plan --out`` writes, and the checks an apply of it makes before any write.

A saved plan (format in docs/gitops.md "Saved plans") lists every planned point and register with its planned
action, its managed state before and after, and the fingerprint of the object as it was read (_fingerprint.py);
with the digest of the desired data, the collection version and the account's login. The apply
(``saved_plan`` option of retail_points, register and fleet_validate) re-plans from what it reads and refuses,
before any write, when an object the plan writes moved, when the data or the account or the collection version is
not the plan's. Objects the plan does not write are not guarded: the apply leaves them as they are (decision D41).
"""

from __future__ import annotations

import json

from ansible_collections.modulkassa.pos.plugins.module_utils._fingerprint import digest, point_state
from ansible_collections.modulkassa.pos.plugins.module_utils._fleet_schema import (
    MANUAL_REGISTERS_VAR,
    POINTS_VAR,
    PURGE_EXCLUDE_VAR,
    PURGE_MAX_VAR,
    PURGE_VAR,
    REGISTER_VARIABLES,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import point_name_key
from ansible_collections.modulkassa.pos.plugins.module_utils._point_planner import WRITE_ACTIONS, PlanError
from ansible_collections.modulkassa.pos.plugins.module_utils._version import COLLECTION_VERSION

FORMAT = "modulkassa.pos/saved-plan"
FORMAT_VERSION = 1
APPLIED_FORMAT = "modulkassa.pos/applied-record"
# The one field that differs between two plans made from the same inputs; not covered by the content digest.
VOLATILE_KEYS = ("created_at", "content_digest")
REPLAN = "make a new plan (modulkassa-plan --out) and review it"
_SHOWN = 10


class SavedPlanError(PlanError):
    """The saved plan cannot be applied: unreadable, edited, or made for other data, account or version."""


def content_digest(document):
    """The digest of a plan's content: everything but the timestamp and the digest itself."""
    return digest(dict((key, value) for key, value in document.items() if key not in VOLATILE_KEYS))


def load_saved_plan(path):
    """The plan in ``path``, checked as a whole (format, version of the format, content digest)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise SavedPlanError("the saved plan %s cannot be read: %s" % (path, exc.strerror or exc))
    try:
        document = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeError):
        raise SavedPlanError("the saved plan %s is not JSON (truncated, or not a plan file): %s" % (path, REPLAN))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SavedPlanError("%s is not a saved plan of modulkassa.pos (no \"format\": %r)" % (path, FORMAT))
    if document.get("format_version") != FORMAT_VERSION:
        raise SavedPlanError("the saved plan %s has format version %r; this collection reads version %d: %s"
                             % (path, document.get("format_version"), FORMAT_VERSION, REPLAN))
    if document.get("content_digest") != content_digest(document):
        raise SavedPlanError("the saved plan %s was changed after it was made (its content digest does not match): "
                             "a plan is applied only as it was reviewed; %s" % (path, REPLAN))
    return document


def check_basis(document, login=None):
    """Refuse a plan made with another collection version, or (``login`` given) for another account."""
    if document.get("collection_version") != COLLECTION_VERSION:
        raise SavedPlanError("the saved plan was made with modulkassa.pos %s, this is %s: %s"
                             % (document.get("collection_version"), COLLECTION_VERSION, REPLAN))
    if login is not None and document.get("login") != login:
        raise SavedPlanError("the saved plan was made for the account %r, not %r: %s"
                             % (document.get("login"), login, REPLAN))


# The fleet variables a plan is made from (the desired data); connection options and credentials are not.
DESIRED_VARIABLES = (POINTS_VAR, PURGE_VAR, PURGE_EXCLUDE_VAR, PURGE_MAX_VAR, MANUAL_REGISTERS_VAR)


def desired_digest(controller, registers):
    """The digest of the desired data: the controller's fleet variables that plans are made from, and each
    register host's variables (its own value, else the fleet-wide one). Hosts outside a run's --limit count too."""
    data = {
        "points": dict((name, controller.get(name)) for name in DESIRED_VARIABLES),
        "registers": dict((host, dict((name, found.get(name, controller.get(name))) for name in REGISTER_VARIABLES))
                          for host, found in registers.items()),
    }
    return digest(json.loads(json.dumps(data, default=str)))


def check_desired_digest(document, digest_now):
    if document.get("desired_digest") != digest_now:
        raise SavedPlanError("the desired data changed since the plan was made (its digest was %s, it is %s now): "
                             "%s" % (str(document.get("desired_digest"))[:12], digest_now[:12], REPLAN))


# -- the entries ---------------------------------------------------------------------------------------------


def point_entry(change):
    """A point of the plan: its planned action, its managed state before and after, its fingerprint as read."""
    before = point_state(change.current)
    return {
        "id": change.id, "name": change.name, "action": change.action, "fingerprint": change.fingerprint,
        "changes": change.changes(), "before": before.get("fields"),
        "after": None if change.action in ("delete", "absent") else dict(before.get("fields") or {}, **change.desired),
        "outcome": change.outcome,
    }


def point_entry_after(change):
    """A point in the applied record: the managed state git put it in (what the data declared at the apply; the
    reference of ``--since``: a cabinet value that differs from it was changed outside git), the outcome, and the
    fingerprint of the point as the apply left it."""
    before = point_state(change.current).get("fields")
    fields = None if change.action in ("delete", "absent") else dict(before or {}, **change.desired)
    return {"id": change.id, "name": change.name, "action": change.action, "outcome": change.outcome,
            "fields": fields, "fingerprint": digest(point_state(change.point))}


def register_entry(plan):
    """A register of the plan (and, after an apply, of the applied record): its actions, bindings before and after,
    and its fingerprint as read."""
    return {"serial": plan.serial, "fingerprint": plan.fingerprint(), "actions": [s.action.as_dict() for s in plan.steps],
            "before": plan.before_names(), "after": plan.after_names(),
            "outcomes": [s.outcome for s in plan.steps]}


def _changed_fields(saved, current_fields):
    before = saved.get("before") or {}
    now = current_fields or {}
    return sorted(field for field in set(before) | set(now) if before.get(field) != now.get(field))


def _how_point_moved(saved, change):
    state = point_state(change.current)
    if saved.get("before") is None and change.current is not None:
        return "created in the cabinet after the plan was made"
    if saved.get("before") is not None and change.current is None:
        return "deleted from the cabinet after the plan was made"
    fields = _changed_fields(saved, state.get("fields"))
    if fields:
        return "changed in the cabinet after the plan was made (%s)" % ", ".join(fields)
    return "its activation or registration changed after the plan was made"


def guard_points(document, point_plan, login):
    """Hold a fresh ``PointPlan`` to the saved plan. Returns the list of stale objects (``{"id", "name", "how"}``);
    when empty, every write the saved plan holds is in the fresh plan, and the fresh plan's other writes are left
    alone (``leave_alone``)."""
    check_basis(document, login)
    saved = dict((entry["id"], entry) for entry in document.get("points") or [] if isinstance(entry, dict))
    stale = []
    fresh = dict((change.id, change) for change in point_plan.changes)
    for point_id, entry in sorted(saved.items()):
        if entry.get("action") not in WRITE_ACTIONS:
            continue
        change = fresh.get(point_id)
        if change is None:
            stale.append({"id": point_id, "name": entry.get("name"), "how": "no longer in the plan of this data"})
        elif change.fingerprint != entry.get("fingerprint"):
            stale.append({"id": point_id, "name": entry.get("name"), "how": _how_point_moved(entry, change)})
        elif change.action != entry["action"] or change.changes() != entry.get("changes"):
            stale.append({"id": point_id, "name": entry.get("name"), "how": "planned now as %s, not %s"
                          % (change.action, entry["action"])})
    if not stale:
        for change in point_plan.changes:
            if change.changed and saved.get(change.id, {}).get("action") != change.action:
                point_plan.leave_alone(change)
    return stale


def stale_message(kind, stale):
    shown = "; ".join("%s %r (%s): %s" % (kind, item.get("name") or item.get("id"), item.get("id"), item["how"])
                      for item in stale[:_SHOWN])
    more = " and %d more" % (len(stale) - _SHOWN) if len(stale) > _SHOWN else ""
    return ("the saved plan is stale, nothing was written: %d planned object(s) moved since it was made: %s%s; %s"
            % (len(stale), shown, more, REPLAN))


def _same_action(fresh, saved):
    """Whether a fresh action is the saved one: the same point (by id; a point the run creates, by name as names
    compare), the same verb, the same register it is taken from."""
    if fresh.get("action") != saved.get("action") or fresh.get("previous_register") != saved.get("previous_register"):
        return False
    if saved.get("id"):
        return str(fresh.get("id") or "").lower() == str(saved["id"]).lower()
    return point_name_key(str(fresh.get("retail_point") or "")) == point_name_key(str(saved.get("retail_point") or ""))


def _shown_actions(actions):
    return ", ".join("%s %s" % (a.get("action"), a.get("retail_point") or a.get("id")) for a in actions) or "nothing"


def guard_register(document, binding_plan, login):
    """Hold a fresh ``BindingPlan`` to the saved plan's entry for its register: returns how it moved (a sentence),
    or None; with None, the fresh plan's actions the saved plan does not hold are left alone."""
    check_basis(document, login)
    entry = next((e for e in document.get("registers") or [] if e.get("serial") == binding_plan.serial), None)
    saved_actions = (entry or {}).get("actions") or []
    if saved_actions:
        if entry.get("fingerprint") != binding_plan.fingerprint():
            return ("its bindings, or the registers holding its declared points, changed after the plan was made "
                    "(it held %s when planned, it holds %s now)" % (entry.get("before"), binding_plan.before_names()))
        fresh = [step.action.as_dict() for step in binding_plan.steps]
        if len(fresh) != len(saved_actions) or not all(_same_action(f, s) for f, s in zip(fresh, saved_actions)):
            return "planned now as %s, not %s" % (_shown_actions(fresh), _shown_actions(saved_actions))
        return None
    for step in binding_plan.steps:
        step.outcome = "not_planned"  # the plan had nothing to do here: what changed since is left alone
    return None


def plan_header(login):
    """What every plugin's ``plan`` result says about the plan's basis."""
    return {"login": login, "collection_version": COLLECTION_VERSION}


def register_refusal(serial, how):
    """The failed result of a register whose saved plan is stale (nothing was written)."""
    return {"failed": True, "changed": False, "serial": serial, "stale": [{"serial": serial, "how": how}],
            "msg": "register %s: %s" % (serial, stale_message("register", [{"id": serial, "how": how}]))}
