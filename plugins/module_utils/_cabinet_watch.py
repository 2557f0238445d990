# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What changed in the cabinet since the last look: the logic of the ``cabinet_changes`` event source.

The event source (``extensions/eda/plugins/event_source/cabinet_changes.py``) is a thin asyncio loop around
:class:`CabinetWatch`: every poll lists the account's points once, reduces each to a *point state* (the
canonical managed fields of ``_point_model.canonical_actual``, the register serial, the health statuses) and
compares the states with the previous poll's. Everything here is synchronous (the client is synchronous
httpx) and runs in a thread of the source.

The event shape, the options and the state file are documented in ``docs/eda.md``; this module is the one
place that builds them. No event and no state file ever holds a secret: the password stays in the client,
``posLinkToken`` (the activation code) is never read, and error texts come from the client, which redacts.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import tempfile
import threading
from collections import namedtuple

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_client import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    client_from_options,
)
from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetError
from ansible_collections.modulkassa.pos.plugins.module_utils._point_model import (
    KKT_NOT_PLUGGED,
    MANAGED_FIELDS,
    canonical_actual,
)

EVENT_KEY = "modulkassa"

POINT_CREATED = "point_created"
POINT_DELETED = "point_deleted"
POINT_EDITED = "point_edited"
POINT_ACTIVATED = "point_activated"
POINT_RELEASED = "point_released"
HEALTH_CHANGED = "health_changed"
POLL_FAILED = "poll_failed"
POLL_RECOVERED = "poll_recovered"

# The health statuses the cabinet reports for a point, by their names in events (the inventory plugin's names).
HEALTH_FIELDS = ("kkt_status", "registration_status")

DEFAULT_INTERVAL = 60.0
STATE_VERSION = 1

ENV_FALLBACKS = {
    "cabinet_url": "MODULKASSA_URL",
    "cabinet_login": "MODULKASSA_LOGIN",
    "cabinet_password": "MODULKASSA_PASSWORD",
    "ca_path": "MODULKASSA_CA_PATH",
}
OPTIONS = ("cabinet_url", "cabinet_login", "cabinet_password", "validate_certs", "ca_path", "timeout", "retries",
           "interval", "state_file")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class Settings(namedtuple("Settings", OPTIONS)):
    """The source's options, checked. Its repr hides the password (a traceback or a debug log may print it)."""

    __slots__ = ()

    def __repr__(self):
        return "Settings(%s)" % ", ".join("%s=%r" % (name, "********" if name == "cabinet_password" else value)
                                          for name, value in zip(self._fields, self))


# ---- options ---------------------------------------------------------------------------------------------

def _unset(value):
    # A rulebook's ``"{{ var | default('') }}"`` renders an empty string: that means "not given".
    return value is None or (isinstance(value, str) and not value.strip())


def _number(name, value, default, integer=False, minimum=0.0, exclusive=True):
    if _unset(value):
        return default
    if isinstance(value, str):  # --env-vars hands every value over as a string
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise ValueError("cabinet_changes: %s must be a number, got %r" % (name, value)) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ValueError("cabinet_changes: %s must be %s, got %r" % (name, "an integer" if integer else "a number", value))
    if not math.isfinite(value) or value < minimum or (exclusive and value == minimum):
        raise ValueError("cabinet_changes: %s must be %s %s, got %r" % (name, ">" if exclusive else ">=", minimum, value))
    return value


def _boolean(name, value, default):
    if _unset(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("cabinet_changes: %s must be a boolean, got %r" % (name, value))


def settings_from_args(args, environ=None):
    """The source's :class:`Settings` from its rulebook arguments, with the ``MODULKASSA_*`` fallbacks.

    Raises ``ValueError`` naming the option (never showing the password) for anything unusable, before any
    request is made: a rulebook with a typo fails at start, not an hour later.
    """
    environ = os.environ if environ is None else environ
    args = dict(args or {})
    # ansible-rulebook adds its own keys (eda_feedback_queue); everything else must be ours.
    unknown = sorted(key for key in args if key not in OPTIONS and not str(key).startswith("eda_"))
    if unknown:
        raise ValueError("cabinet_changes: unknown option%s %s; the options are %s"
                         % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(OPTIONS)))
    values = {}
    for name, variable in ENV_FALLBACKS.items():
        value = args.get(name)
        if _unset(value):
            value = environ.get(variable)
        if not _unset(value) and not isinstance(value, str):
            raise ValueError("cabinet_changes: %s must be a string" % name)
        values[name] = value.strip() if isinstance(value, str) and name != "cabinet_password" else value
    for name in ("cabinet_url", "cabinet_login", "cabinet_password"):
        if _unset(values[name]):
            raise ValueError("cabinet_changes: %s is required (or set %s in the environment of ansible-rulebook)"
                             % (name, ENV_FALLBACKS[name]))
    if _unset(values["ca_path"]):
        values["ca_path"] = None
    else:
        values["ca_path"] = os.path.expanduser(values["ca_path"])

    state_file = args.get("state_file")
    if _unset(state_file):
        state_file = None
    elif not isinstance(state_file, str):
        raise ValueError("cabinet_changes: state_file must be a path")
    else:
        state_file = os.path.abspath(os.path.expanduser(state_file.strip()))
        directory = os.path.dirname(state_file)
        if not os.path.isdir(directory):
            raise ValueError("cabinet_changes: state_file %s: the directory %s does not exist" % (state_file, directory))
        if os.path.isdir(state_file):
            raise ValueError("cabinet_changes: state_file %s is a directory" % state_file)

    return Settings(
        cabinet_url=values["cabinet_url"],
        cabinet_login=values["cabinet_login"],
        cabinet_password=values["cabinet_password"],
        validate_certs=_boolean("validate_certs", args.get("validate_certs"), True),
        ca_path=values["ca_path"],
        timeout=float(_number("timeout", args.get("timeout"), DEFAULT_TIMEOUT)),
        retries=_number("retries", args.get("retries"), DEFAULT_RETRIES, integer=True, exclusive=False),
        interval=float(_number("interval", args.get("interval"), DEFAULT_INTERVAL)),
        state_file=state_file,
    )


def open_client(settings, warn=None):
    """The collection's cabinet client for these settings (retries, Retry-After, TLS options, redaction)."""
    return client_from_options(settings._asdict(), warn=warn)


# ---- point states and the changes between two snapshots --------------------------------------------------

def point_state(point):
    """What the watcher keeps of one cabinet point: nothing secret, nothing that is only formatting."""
    kkm_info = point.get("kkmInfo") if isinstance(point.get("kkmInfo"), dict) else {}
    serial = kkm_info.get("serialNumber")
    registration = point.get("registrationRequestStatus")
    return {
        "name": point.get("name"),
        "fields": canonical_actual(point),
        "register_serial": str(serial) if serial not in (None, "") else None,
        "health": {
            "kkt_status": point.get("kktStatus") or KKT_NOT_PLUGGED,
            "registration_status": str(registration) if registration is not None else None,
        },
    }


def snapshot_of(points):
    """``{point id: point state}`` of a list answer (the client has checked every item's shape)."""
    return dict((str(point["id"]), point_state(point)) for point in points)


def utc_now():
    """ISO 8601 UTC with milliseconds and a ``Z``, as events carry it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _envelope(kind, context, **details):
    body = {"type": kind}
    body.update(context)
    body.update(details)
    return {EVENT_KEY: body}


def _point_event(kind, context, point_id, state, **details):
    return _envelope(kind, context, point={"id": point_id, "name": state["name"]}, **details)


def _field_changes(before, after, fields):
    return dict((field, {"before": before.get(field), "after": after.get(field)})
                for field in fields if before.get(field) != after.get(field))


def _by_name(snapshot, ids):
    return sorted(ids, key=lambda point_id: (str(snapshot[point_id]["name"]), point_id))


def changes_between(before, after, context):
    """The events that turn snapshot ``before`` into ``after``, in a stable order (``docs/eda.md``).

    ``context`` is the part every event carries (account, cabinet_url, observed_at).
    """
    created = _by_name(after, [point_id for point_id in after if point_id not in before])
    deleted = _by_name(before, [point_id for point_id in before if point_id not in after])
    kept = _by_name(after, [point_id for point_id in after if point_id in before])

    events = []
    for point_id in created:
        state = after[point_id]
        events.append(_point_event(POINT_CREATED, context, point_id, state, fields=state["fields"],
                                   register_serial=state["register_serial"], health=state["health"]))
    for point_id in kept:
        changes = _field_changes(before[point_id]["fields"], after[point_id]["fields"], MANAGED_FIELDS)
        if changes:
            events.append(_point_event(POINT_EDITED, context, point_id, after[point_id], changes=changes))
    for point_id in kept:
        old, new = before[point_id]["register_serial"], after[point_id]["register_serial"]
        if old == new:
            continue
        state = after[point_id]
        if new is None:
            events.append(_point_event(POINT_RELEASED, context, point_id, state, register_serial=old,
                                       health=state["health"]))
        else:  # activated, or moved from register ``old`` to ``new``: one change, one event
            events.append(_point_event(POINT_ACTIVATED, context, point_id, state, register_serial=new,
                                       previous_register_serial=old, health=state["health"]))
    for point_id in kept:
        fields = HEALTH_FIELDS
        if before[point_id]["register_serial"] != after[point_id]["register_serial"]:
            # The register status that comes with an activation or a release is that event's news (its
            # ``health`` says the new status); only the tax-office registration is a change of its own then.
            fields = ("registration_status",)
        changes = _field_changes(before[point_id]["health"], after[point_id]["health"], fields)
        if changes:
            state = after[point_id]
            events.append(_point_event(HEALTH_CHANGED, context, point_id, state, changes=changes,
                                       health=state["health"], register_serial=state["register_serial"]))
    for point_id in deleted:
        state = before[point_id]
        events.append(_point_event(POINT_DELETED, context, point_id, state, fields=state["fields"],
                                   register_serial=state["register_serial"], health=state["health"]))
    return events


# ---- the state file ----------------------------------------------------------------------------------------

def _valid_state(point):
    return (isinstance(point, dict) and isinstance(point.get("fields"), dict) and isinstance(point.get("health"), dict)
            and set(point) == {"name", "fields", "register_serial", "health"})


def load_state(path, cabinet_url, account, log=None):
    """The snapshot saved in ``path`` for this cabinet and account, or None (then the first poll is a baseline).

    A missing file is the normal first start. A file that cannot be read, is not ours, or was written for
    another cabinet or account is ignored with a warning (and replaced after the next poll): comparing with
    it would report every point as created or deleted.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _log(log, "warning", "cabinet_changes: state file %s cannot be read (%s); the first poll is a new baseline"
             % (path, exc.__class__.__name__))
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not isinstance(data.get("points"), dict) \
            or not all(isinstance(key, str) and _valid_state(value) for key, value in data["points"].items()):
        _log(log, "warning", "cabinet_changes: state file %s is not a version %d cabinet_changes state; the first poll "
             "is a new baseline" % (path, STATE_VERSION))
        return None
    if data.get("cabinet_url") != cabinet_url or str(data.get("account", "")).lower() != account.lower():
        _log(log, "warning", "cabinet_changes: state file %s was written for %s at %s, not %s at %s; the first poll is "
             "a new baseline" % (path, data.get("account"), data.get("cabinet_url"), account, cabinet_url))
        return None
    return data["points"]


def save_state(path, cabinet_url, account, snapshot):
    """Write the snapshot atomically (a crash leaves the old file or the new one), readable by the owner only."""
    data = {"version": STATE_VERSION, "cabinet_url": cabinet_url, "account": account, "saved_at": utc_now(),
            "points": snapshot}
    directory = os.path.dirname(path) or "."
    handle, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp made it 0600
            json.dump(data, out, ensure_ascii=False, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, path)
    except BaseException:
        try:
            os.unlink(temp_path)
        except OSError:
            pass
        raise


def _log(log, level, message):
    if log is not None:
        getattr(log, level)(message)


# ---- the watcher ---------------------------------------------------------------------------------------------

class CabinetWatch(object):
    """Polls one account and turns each poll into events. ``poll`` then ``accept``; never two polls at once.

    ``poll()`` returns ``(events, snapshot)``; the caller queues the events and then calls
    ``accept(snapshot)``, which makes it the new reference (and saves the state file). Saving after the
    events are queued means a crash can at worst repeat one poll's events, never lose them.
    """

    def __init__(self, client, account, state_file=None, log=None, now=utc_now):
        self._client = client
        self._account = account
        self._state_file = state_file
        self._log = log
        self._now = now
        self._context_base = {"account": account, "cabinet_url": client.base_url}
        self._snapshot = load_state(state_file, client.base_url, account, log) if state_file else None
        self._state_saved = self._snapshot is not None
        self._failed_polls = 0
        self._failing_since = None
        self._lock = threading.Lock()
        self._busy = False
        self._close_requested = False

    @property
    def has_baseline(self):
        return self._snapshot is not None

    def _context(self, observed_at):
        context = dict(self._context_base)
        context["observed_at"] = observed_at
        return context

    def poll(self):
        """One list request; ``(events, snapshot)``, or ``(events, None)`` when the cabinet could not be read.

        A failed poll changes nothing: no point is reported deleted because a list failed. The first failure of
        a streak is one ``poll_failed`` event (later ones are only logged), the first success after it one
        ``poll_recovered``.
        """
        with self._lock:
            self._busy = True
        try:
            observed_at = self._now()
            context = self._context(observed_at)
            try:
                points = self._client.list_points()
            except CabinetError as exc:
                self._failed_polls += 1
                _log(self._log, "warning", "cabinet_changes: poll %d in a row failed, nothing is reported for it: %s"
                     % (self._failed_polls, exc))
                if self._failed_polls > 1:
                    return [], None
                self._failing_since = observed_at
                return [_envelope(POLL_FAILED, context, error=str(exc))], None

            events = []
            if self._failed_polls:
                events.append(_envelope(POLL_RECOVERED, context, failed_polls=self._failed_polls,
                                        failing_since=self._failing_since))
                self._failed_polls, self._failing_since = 0, None
            snapshot = snapshot_of(points)
            if self._snapshot is None:
                _log(self._log, "info", "cabinet_changes: baseline of %d points for %s; changes from now on are events"
                     % (len(snapshot), self._account))
            else:
                events.extend(changes_between(self._snapshot, snapshot, context))
            return events, snapshot
        finally:
            self._idle()

    def accept(self, snapshot):
        """Make ``snapshot`` (from ``poll``) the reference for the next poll; write the state file if it changed."""
        if snapshot is None:
            return
        changed = snapshot != self._snapshot
        self._snapshot = snapshot
        if self._state_file and (changed or not self._state_saved):
            try:
                save_state(self._state_file, self._client.base_url, self._account, snapshot)
                self._state_saved = True
            except OSError as exc:
                # Keep watching (the reference in memory is right); a restart before the next successful save
                # compares with the older file and reports those changes again.
                self._state_saved = False
                _log(self._log, "error", "cabinet_changes: cannot write the state file %s: %s" % (self._state_file, exc))

    def close(self):
        """Close the client now, or, while a poll still runs in its thread, as soon as that poll ends."""
        with self._lock:
            self._close_requested = True
            busy = self._busy
        if not busy:
            self._client.close()

    def _idle(self):
        with self._lock:
            self._busy = False
            close = self._close_requested
        if close:
            self._client.close()
