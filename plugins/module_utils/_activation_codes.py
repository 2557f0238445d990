# -*- coding: utf-8 -*-
# Copyright: (c) 2026, modulkassa.pos developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Activation codes: how they are drawn, and the sealed file that hands them to staff.

A code is a random numeric string, as the cabinet's own "Сгенерировать код" makes them. Codes are secrets:
they go into the cabinet (``posLinkToken``), onto a register's stdin, or into a file of mode 0600 that the
user names, and nowhere else.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import tempfile

from ansible_collections.modulkassa.pos.plugins.module_utils._cabinet_errors import CabinetConflict, CabinetError

CODE_DIGITS = 8
ISSUE_ATTEMPTS = 5


def new_activation_code():
    return "%0*d" % (CODE_DIGITS, secrets.randbelow(10 ** CODE_DIGITS))


def issue_code(client, point_id, drawn=None):
    """Store a fresh code in the point (the cabinet's "Активировать"); returns ``(code, point)``.

    The previous code, if any, stops working: this is how a code left by an interrupted run is retired.
    ``drawn`` (a set) receives every code before it is sent: a write whose answer was lost may have stored it, and
    whoever cleans up after a failure must recognise it as this run's (``withdraw_code``).
    """
    for dummy in range(ISSUE_ATTEMPTS):
        code = new_activation_code()
        client.add_secret(code)  # from here on the client redacts it from every message
        if drawn is not None:
            drawn.add(code)
        try:
            return code, client.update_point(point_id, {"posLinkToken": code})
        except CabinetConflict:
            continue  # the cabinet keeps live codes unique across points: draw another
    raise CabinetError("could not issue a unique activation code for retail point %s after %d attempts" % (point_id, ISSUE_ATTEMPTS))


def withdraw_code(client, point_id):
    """Take back the point's unredeemed code (``posLinkToken: null``). A cleanup write: sent even when the run must
    stop, because a live code opens the point to any register that redeems it."""
    return client.update_point(point_id, {"posLinkToken": None}, cleanup=True)


def _read_codes(path):
    """The code file's mapping, or {} when it is missing, unreadable or not a JSON object."""
    try:
        with open(path) as handle:
            codes = json.load(handle)
    except (IOError, OSError, ValueError):
        return {}
    return codes if isinstance(codes, dict) else {}


def sealed_code_of(path, name, point_id):
    """The code the file at ``path`` holds for this point (its entry by name, with this id), or None."""
    entry = _read_codes(os.path.abspath(os.path.expanduser(path))).get(name)
    if not isinstance(entry, dict) or entry.get("id") != point_id or not isinstance(entry.get("code"), str):
        return None
    return entry["code"]


def unwritable_reason(path):
    """Why ``record_code`` could not write ``path`` (None if it can): checked before a code is issued."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        return "%s is a directory" % path
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else "%s is not writable" % path
    ancestor = os.path.dirname(path)
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor) or not os.access(ancestor, os.W_OK | os.X_OK):
        return "cannot create %s: %s is not a writable directory" % (path, ancestor)
    return None


def record_code(path, name, point_id, code):
    """Merge ``{name: {id, code, issued_at}}`` into the JSON file at ``path``, written atomically with mode 0600."""
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    codes = _read_codes(path)
    entry = codes.get(name)
    if isinstance(entry, dict) and entry.get("code") == code and entry.get("id") == point_id:
        return
    # A missing directory would fail here, after the code was issued in the cabinet: make it, private (the file
    # holds live codes). An existing directory keeps its mode.
    os.makedirs(directory, mode=0o700, exist_ok=True)
    codes[name] = {"id": point_id, "code": code,
                   "issued_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    handle, temp_path = tempfile.mkstemp(prefix=".codes-", dir=directory)  # mkstemp creates it with mode 0600
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(codes, out, indent=2, ensure_ascii=False, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_path, 0o600)
        os.rename(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
